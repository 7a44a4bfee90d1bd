"""GET /api/v1/admin/metrics: Prometheus metrics for a scraper holding an API token.

Any role's token may read them (give the scraper an account of its own), and an account
limited to some sites sees only those sites' samples."""

from flask import Response

from cmp_server.admin.access import requires, staff
from cmp_server.admin.blueprint import api_bp
from cmp_server.extensions import db
from cmp_server.services import metrics, witnesses


@api_bp.get("/metrics")
@requires("view_sites")
def prometheus_metrics():
    user = staff()
    site_keys = None if user.has_every_site else list(user.site_keys)
    lags = witnesses.lags(db.session.connection(), witnesses.configured(), site_keys)
    return Response(metrics.witness_lag_text(lags), content_type=metrics.CONTENT_TYPE)
