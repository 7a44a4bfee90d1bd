"""The consent-rate dashboard page of a site."""

from datetime import timedelta

from flask import render_template, request

from cmp_server.admin.access import requires, site_for
from cmp_server.admin.blueprint import bp
from cmp_server.admin.params import parse_day
from cmp_server.models.types import utcnow
from cmp_server.services import stats
from cmp_server.services.charts import ACTION_LABELS, daily_chart, meter, share_bar

BREAKDOWN_TITLES = {
    "country": "Country",
    "device_type": "Device type",
    "browser": "Browser",
    "language": "Language",
    "revision": "Banner revision",
    "regime": "Regime applied",
    "gpc": "GPC signal",
}
PRESETS = (7, 30, 90, 365)


@bp.get("/sites/<site_key>/dashboard")
@requires("dashboard")
def site_dashboard(site_key):
    site = site_for(site_key)
    board = stats.dashboard(
        site,
        parse_day(request.args.get("since"), "since"),
        parse_day(request.args.get("until"), "until"),
    )
    today = utcnow().date()
    presets = [(days, (today - timedelta(days=days - 1)).isoformat()) for days in PRESETS]
    labels = {
        c.key: (c.labels.get(site.default_language) or next(iter(c.labels.values()), {})).get(
            "title", c.key
        )
        for c in site.categories
    }
    return render_template(
        "admin/dashboard.html",
        site=site,
        board=board,
        day_chart=daily_chart(board.days),
        share=share_bar(board.actions),
        meter=meter,
        action_labels=ACTION_LABELS,
        breakdown_titles=BREAKDOWN_TITLES,
        category_labels=labels,
        presets=presets,
        today=today.isoformat(),
    )
