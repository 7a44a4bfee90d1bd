"""Errors the services raise; the routes and the CLI turn them into answers and messages."""


class ServiceError(Exception):
    """A rule of the domain was broken; `code` and `message` are shown to the caller."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class InvalidInput(ServiceError):
    status = 400
    code = "invalid"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class StorageUnavailable(ServiceError):
    status = 503
    code = "storage_unavailable"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"
