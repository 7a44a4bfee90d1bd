"""The two staff-facing blueprints: console pages and the JSON API."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
api_bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")
