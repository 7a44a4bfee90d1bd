"""Logs without visitors' personal data or anyone's secrets.

The README promises that a visitor's full IP address is written nowhere; device IDs, device
secrets, API tokens and session cookies do not belong in logs either. Two guards:

- the access log (gunicorn.conf.py's `AccessLogger`) is built from `access_atoms`: the
  client's address and X-Forwarded-For truncated (IPv4 /24, IPv6 /48), the request path's
  IDs hidden, the query string of the Referer dropped, no Authorization, Cookie or
  Accord-Device-Secret header;
- every other log record (Accord's, Flask's, SQLAlchemy's, gunicorn's workers') is passed
  through `redact` when it is made (`install`): IP addresses truncated, UUIDs, device
  secrets, bearer tokens and cookies replaced. Only the lines of gunicorn's master process
  (listening, booting and stopping workers) are left as they are: they name the server's
  own address, and the master serves no visitor.

SQL parameters never reach an exception's text in the first place (`hide_parameters` on the
engine, database.py), so a failed batch cannot log whole rows.
"""

import ipaddress
import logging
import os
import re
import time
import traceback
import uuid

from cmp_server.visitor import truncate_ip
from cmp_server.vocabulary import CONSENT_COOKIE

IPV4 = re.compile(r"(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])")
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SECRETS = (
    # "device_secret": "…", device_secret=…, Accord-Device-Secret: …
    re.compile(r"""(device[_-]secret["']?\s*[:=]\s*["']?)[^"'\s,;&}]+""", re.IGNORECASE),
    re.compile(r"(bearer\s+)\S+", re.IGNORECASE),
    re.compile(r"\b(acc_)[A-Za-z0-9_-]{8,}"),  # API tokens (services/tokens.py TOKEN_PREFIX)
    re.compile(rf"(\b(?:session|{CONSENT_COOKIE})=)[^;\s]+"),
)
HIDDEN = "<hidden>"
HIDDEN_HEADERS = ("authorization", "cookie", "set-cookie", "accord-device-secret")
HEADER_ATOM = re.compile(r"\{(.+)\}[io]")  # gunicorn's "{header-name}i" (request), "…}o" (response)


def _network(match: re.Match) -> str:
    """An address as its network address (1.2.3.4 -> 1.2.3.0); anything else unchanged."""
    text = match.group()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return text
    return truncate_ip(text).split("/")[0]


def redact(text: str) -> str:
    """`text` with IP addresses truncated and IDs, secrets, tokens and cookies hidden."""
    text = UUID.sub(HIDDEN, text)
    for pattern in SECRETS:
        text = pattern.sub(lambda m: m.group(1) + HIDDEN, text)
    text = IPV4.sub(_network, text)
    return IPV6.sub(_network, text)


def truncate_addresses(value: str | None) -> str:
    """A client address or an X-Forwarded-For list, each address truncated to its network."""
    if not value:
        return "-"
    return ", ".join(truncate_ip(part.strip()) or "-" for part in value.split(","))


def access_atoms(atoms: dict) -> dict:
    """gunicorn's access-log atoms with nothing personal or secret left in them: the client
    address truncated, secret headers dropped, every other header (X-Forwarded-For,
    X-Real-IP...), the request line and the Referer (less its query) through `redact`."""
    clean = {}
    for key, value in atoms.items():
        header = HEADER_ATOM.fullmatch(key)
        if header and header.group(1) in HIDDEN_HEADERS:
            continue
        if header or (key in ("r", "U", "q") and isinstance(value, str)):
            value = redact(value)
        clean[key] = value
    clean["h"] = truncate_addresses(atoms.get("h"))
    if isinstance(atoms.get("f"), str):
        clean["f"] = redact(atoms["f"].split("?")[0])
    return clean


_master_pid: int | None = None  # gunicorn's master (gunicorn.conf.py): it serves no visitor


def _is_server_lifecycle(record: logging.LogRecord) -> bool:
    """gunicorn's master saying how it is configured, that it listens, boots or stops workers:
    no visitor in it. Workers log client addresses ("Invalid request from ip=…"), so their
    lines are all redacted."""
    return record.process == _master_pid and record.name == "gunicorn.error"


def _redacted(record: logging.LogRecord) -> logging.LogRecord:
    if record.name == "gunicorn.access" or _is_server_lifecycle(record):
        return record  # the access log is built from access_atoms
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed log call must not lose the record
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install(gunicorn_master: bool = False) -> None:
    """Redact every log record of this process (and of the processes it forks) as it is
    made; idempotent. `gunicorn_master`: this process is gunicorn's master, whose own
    start-up and shutdown lines are kept as they are."""
    global _master_pid
    if gunicorn_master:
        _master_pid = os.getpid()
    factory = logging.getLogRecordFactory()
    if getattr(factory, "accord_redacts", False):
        return

    def make_record(*args, **kwargs):
        return _redacted(factory(*args, **kwargs))

    make_record.accord_redacts = True
    logging.setLogRecordFactory(make_record)


# --- Structured application logs, one key=value line per record ------------------------------

REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # a caller's id: no dots or colons, so no IP
_QUOTE_NEEDED = re.compile(r'[\s"=]')


def _value(value) -> str:
    text = "-" if value is None or value == "" else str(value)
    if _QUOTE_NEEDED.search(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    """`at=… level=… logger=… request_id=… msg="…"` (and `exc="…"`): one line a machine
    and a person can read. The message was redacted when the record was made (`install`)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            "msg": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            fields["exc"] = record.exc_text
        return " ".join(f"{key}={_value(value)}" for key, value in fields.items())


KeyValueFormatter.converter = time.gmtime


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to each record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from flask import g, has_request_context

        record.request_id = g.get("request_id") if has_request_context() else None
        return True


def request_id_for(incoming: str | None) -> str:
    """The caller's X-Request-Id when it is a plain token, else a new one."""
    if incoming and REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def configure(app) -> None:
    """Application logging for `app`: redaction of every record (`install`), one key=value
    line per record of `cmp_server.*` on stderr with the request id, and `X-Request-Id`
    accepted from the caller (or made) and returned on every answer Flask makes."""
    from flask import g, request

    install()
    logger = logging.getLogger("cmp_server")
    if not any(isinstance(h.formatter, KeyValueFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(KeyValueFormatter())
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
    logger.setLevel(app.config.get("ACCORD_LOG_LEVEL", "INFO"))

    @app.before_request
    def take_request_id():
        g.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER))

    @app.after_request
    def return_request_id(response):
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response
