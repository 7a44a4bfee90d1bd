"""Values every console template can use."""

from flask import g

from cmp_server.admin.access import can
from cmp_server.admin.blueprint import bp
from cmp_server.admin.charts import ACTION_LABELS
from cmp_server.admin.forms import LogoutForm


@bp.context_processor
def console_globals():
    user = g.get("staff")
    return {
        "staff": user,
        "can": lambda capability: can(user, capability),
        "logout_form": LogoutForm() if user else None,
        "action_labels": ACTION_LABELS,
    }
