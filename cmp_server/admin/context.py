"""Values every console template can use."""

from flask import g

from cmp_server.admin.access import can
from cmp_server.admin.blueprint import bp
from cmp_server.admin.forms import LogoutForm
from cmp_server.services import contrast, text_labels, timefmt
from cmp_server.services.charts import ACTION_LABELS


@bp.before_request
def start_in_utc() -> None:
    """Every page starts in UTC: only loading a site (`site_for`) sets the page's zone. (An
    app context, and so `g`, may outlive one request: tests share one across requests.)"""
    g.pop("time_zone", None)


def display_zone() -> str:
    """The zone this page shows moments in: its site's (set by `access.site_for`), else UTC."""
    return g.get("time_zone") or timefmt.DEFAULT_ZONE


@bp.app_template_filter("moment")
def moment(value, seconds: bool = False, day: bool = False):
    """`{{ value|moment }}`: a `<time>` element in the page's zone (services/timefmt.py)."""
    return timefmt.time_element(value, display_zone(), seconds=seconds, day=day)


bp.add_app_template_global(text_labels.grouped, "text_groups")
bp.add_app_template_global(contrast.rules, "contrast_rules")
bp.add_app_template_global(text_labels.label_for, "text_label")
bp.add_app_template_global(text_labels.hint_for, "text_hint")


@bp.context_processor
def console_globals():
    user = g.get("staff")
    return {
        "staff": user,
        "can": lambda capability: can(user, capability),
        "logout_form": LogoutForm() if user else None,
        "action_labels": ACTION_LABELS,
        "time_zone": display_zone(),
    }
