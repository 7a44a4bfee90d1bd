"""The witness's HTTP API (docs/witness.md): its key, cosigning, and its latest cosignature.

    GET  /v1/key                        {"keys": [key document]}
    POST /v1/checkpoints                {"checkpoint", "keys"?, "from_size"?, "links"?}
    GET  /v1/logs/<site_key>/latest     {"checkpoint", "cosignature"}

Refusals: 400 malformed, 403 signature not valid under the pinned key (or unknown log),
409 the log shrank or forked since the last cosigned checkpoint (or `from_size` is not the
witness's size: the body says which size to send links from).
"""

import json
import threading

from flask import Flask, jsonify, request

from cmp_server.proof.checkpoints import checkpoint_problem
from cmp_server.proof.cosign import cosign, extend_head
from cmp_server.proof.keys import PublicKeys
from cmp_server.witness import store


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, fields=None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def create_witness_app(env) -> Flask:
    app = Flask("accord_witness")
    engine = store.open_database(env)
    signer = store.load_signer(env)
    lock = threading.Lock()  # one cosigning at a time: each extends the previous one

    @app.errorhandler(Refusal)
    def refused(exc: Refusal):
        body = {"error": {"code": exc.code, "message": exc.message, "fields": exc.fields}}
        return jsonify(body), exc.status

    @app.errorhandler(404)
    @app.errorhandler(405)
    def not_here(exc):
        body = {"error": {"code": "not_found", "message": exc.description, "fields": {}}}
        return jsonify(body), exc.code

    @app.get("/v1/key")
    def key():
        return jsonify(json.loads((store.instance_path(env) / store.PUBLIC_FILE).read_text()))

    @app.get("/v1/logs/<site_key>/latest")
    def latest(site_key):
        with engine.connect() as conn:
            row = store.get_log(conn, site_key)
        if row is None or row.cosignature is None:
            raise Refusal(404, "unknown_log", f"No checkpoint of log {site_key!r} cosigned here.")
        return jsonify(
            {"checkpoint": json.loads(row.checkpoint), "cosignature": json.loads(row.cosignature)}
        )

    @app.post("/v1/checkpoints")
    def submit():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("checkpoint"), dict):
            raise Refusal(400, "invalid_body", "Send a JSON object with a checkpoint.")
        with lock, engine.begin() as conn:
            return jsonify({"cosignature": cosign_checkpoint(conn, body, signer)})

    return app


def cosign_checkpoint(conn, body: dict, signer) -> dict:
    """Cosign body["checkpoint"] if it is validly signed and extends the last one cosigned."""
    checkpoint = body["checkpoint"]
    site_key = checkpoint.get("site_key")
    if not isinstance(site_key, str) or not 0 < len(site_key) <= 64:
        raise Refusal(400, "invalid_body", "The checkpoint names no site key.")
    row = store.get_log(conn, site_key) or _first_contact(conn, site_key, body.get("keys"))
    problem = checkpoint_problem(checkpoint, PublicKeys.from_documents(_pinned(row)), site_key)
    if problem:
        code = "unknown_key" if problem.startswith("unknown key") else "bad_signature"
        raise Refusal(403, code, f"Checkpoint refused: {problem} (keys pinned for this log).")
    if row.size is not None:
        _check_extends(row, checkpoint, body)
    cosignature = cosign(checkpoint, store.now(), signer)
    store.record_cosigned(conn, checkpoint, cosignature)
    return cosignature


def _pinned(row) -> list[dict]:
    return json.loads(row.pinned_keys)["keys"]


def _first_contact(conn, site_key: str, documents):
    """Trust on first use: pin the keys the log's first request carries."""
    if not isinstance(documents, list) or not documents:
        raise Refusal(403, "unknown_log", f"Log {site_key!r} is new here: send its keys.")
    try:
        store.pin_keys(conn, site_key, documents)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Refusal(400, "invalid_keys", f"The keys cannot be used: {exc}") from None
    return store.get_log(conn, site_key)


def _check_extends(row, checkpoint: dict, body: dict) -> None:
    """Refuse a checkpoint that does not extend the last cosigned one (409)."""
    size, seen = checkpoint["size"], {"size": row.size, "head_hash": row.head_hash}
    if size < row.size:
        raise Refusal(409, "log_shrank", f"The log shrank: size {size} < {row.size}.", seen)
    if size == row.size:
        if checkpoint["head_hash"] != row.head_hash:
            raise Refusal(409, "log_forked", f"Another head at size {size}: forked.", seen)
        return
    if body.get("from_size") != row.size:
        raise Refusal(409, "wrong_from_size", f"Send the links from size {row.size}.", seen)
    links = body.get("links")
    if not isinstance(links, list) or len(links) != size - row.size:
        raise Refusal(400, "invalid_links", f"Send {size - row.size} links.", seen)
    for offset, link in enumerate(links, row.size + 1):
        if not isinstance(link, dict) or (link.get("position"), link.get("site_key")) != (
            offset,
            checkpoint["site_key"],
        ):
            raise Refusal(400, "invalid_links", f"Link {offset} is not record {offset}.", seen)
    try:
        head = extend_head(row.head_hash, links)
    except ValueError as exc:
        raise Refusal(400, "invalid_links", str(exc), seen) from None
    if head != checkpoint["head_hash"]:
        raise Refusal(
            409,
            "log_forked",
            f"The records after size {row.size} do not lead to this head: the log forked.",
            seen,
        )
