"""Console error pages in the console's own layout (the API keeps the app's JSON shape)."""

from flask import render_template
from werkzeug.exceptions import HTTPException

from cmp_server.admin.blueprint import bp
from cmp_server.services.errors import ServiceError

TITLES = {
    400: "This request is not valid",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    429: "Too many requests",
}


def console_error(status: int, message: str):
    title = TITLES.get(status, "Something went wrong")
    return render_template("admin/error.html", status=status, title=title, message=message), status


@bp.errorhandler(ServiceError)
def service_error(exc: ServiceError):
    return console_error(exc.status, exc.message)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if exc.code and exc.code < 400:
        return exc
    return console_error(exc.code or 500, exc.description or exc.name)
