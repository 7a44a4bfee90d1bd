"""One error shape for the API, plain pages for the console.

API answers: {"error": {"code": "...", "message": "...", "fields": {...}}}.
"""

import logging

from flask import jsonify, render_template, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from cmp_server.services.errors import ServiceError, StorageUnavailable

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "storage_unavailable",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, code: str, message: str, fields: dict | None = None, headers=None):
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _page(status: int, message: str):
    return render_template("error.html", status=status, message=message), status


# Answers worth a WARNING: someone was refused (role, origin, device secret, rate) or ran into
# a conflict. Invalid input and unknown things are the caller's business: INFO.
WARNED_STATUSES = frozenset({401, 403, 409, 413, 429})


def log_refusal(status: int, code: str) -> None:
    level = logging.WARNING if status in WARNED_STATUSES else logging.INFO
    log.log(level, "refused %s %s: %s %s", request.method, request.path, status, code)


def handle_service_error(exc: ServiceError):
    log_refusal(exc.status, exc.code)
    headers = {"Retry-After": "5"} if isinstance(exc, StorageUnavailable) else None
    if wants_json():
        return error_response(exc.status, exc.code, exc.message, exc.fields, headers)
    return (*_page(exc.status, exc.message), headers or {})


def handle_validation_error(exc: ValidationError):
    if wants_json():
        return error_response(
            400, "invalid", "The request is not valid: see fields.", exc.messages_dict
        )
    return _page(400, "The request is not valid.")


def handle_http_error(exc: HTTPException):
    log_refusal(exc.code or 500, HTTP_CODES.get(exc.code, "http_error"))
    if not wants_json():
        return exc
    messages = {
        413: "The request body is larger than 64 KiB.",
        429: f"Too many requests: {exc.description}. Wait and try again.",
    }
    response = error_response(
        exc.code or 500,
        HTTP_CODES.get(exc.code, "http_error"),
        messages.get(exc.code, exc.description or exc.name),
    )
    for name in ("Allow", "Retry-After"):
        if exc.get_response().headers.get(name):
            response.headers[name] = exc.get_response().headers[name]
    return response


def handle_database_error(exc: DBAPIError):
    log.warning("database unavailable: %s", exc)
    from cmp_server.extensions import db

    db.session.rollback()
    message = "The database is unavailable; try again shortly."
    if wants_json():
        return error_response(503, "storage_unavailable", message, headers={"Retry-After": "5"})
    return (*_page(503, message), {"Retry-After": "5"})


def handle_data_error(exc: DataError):
    """The database refused a value (a NUL character, a string too long for its column):
    the input is at fault, not the storage."""
    from cmp_server.extensions import db

    db.session.rollback()
    message = "A value cannot be stored (a NUL character, or text that is too long)."
    if wants_json():
        return error_response(400, "invalid", message)
    return _page(400, message)


def handle_integrity_error(exc: IntegrityError):
    from cmp_server.extensions import db

    db.session.rollback()
    log_refusal(409, "conflict")
    message = "This conflicts with something that already exists."
    if wants_json():
        return error_response(409, "conflict", message)
    return _page(409, message)


def handle_unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    if wants_json():
        return error_response(500, "internal_error", "Something went wrong on our side.")
    return _page(500, "Something went wrong on our side.")


def register_error_handlers(app):
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(Exception, handle_unexpected)
