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
    """The input breaks a rule (400); `fields` names what to fix."""

    status = 400
    code = "invalid"


class NotFound(ServiceError):
    """No such site, record, account or token, or not one the caller may see (404)."""

    status = 404
    code = "not_found"


class Conflict(ServiceError):
    """The request contradicts what exists (409): a replayed ID, nothing to publish."""

    status = 409
    code = "conflict"


class Forbidden(ServiceError):
    """The caller's role, site limit, origin or device secret does not allow this (403)."""

    status = 403
    code = "forbidden"


class StorageUnavailable(ServiceError):
    """The database did not answer in time (503, with Retry-After)."""

    status = 503
    code = "storage_unavailable"


class UnsupportedMediaType(ServiceError):
    """The body is not in a media type the endpoint reads (415)."""

    status = 415
    code = "unsupported_media_type"
