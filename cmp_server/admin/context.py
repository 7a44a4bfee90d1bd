"""Values every console template can use."""

from flask import g

from cmp_server.admin.access import can
from cmp_server.admin.blueprint import bp
from cmp_server.admin.forms import LogoutForm
from cmp_server.services import contrast, text_labels, timefmt
from cmp_server.services.charts import ACTION_LABELS

bp.add_app_template_filter(timefmt.machine_time, "machine_time")
bp.add_app_template_filter(timefmt.human_time, "human_time")
bp.add_app_template_filter(timefmt.human_day, "human_day")
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
    }
