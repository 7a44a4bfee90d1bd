"""The site's Install page: the HTML to paste in the site's pages (issue #17)."""

from flask import current_app, render_template, request

from cmp_server.admin.access import requires, site_for
from cmp_server.admin.blueprint import bp
from cmp_server.services import revisions
from cmp_server.services.snippet import install_html


@bp.get("/sites/<site_key>/install")
@requires("view_sites")
def site_install(site_key):
    site = site_for(site_key)
    base_url = current_app.config.get("ACCORD_PUBLIC_URL") or request.url_root
    return render_template(
        "admin/install.html",
        site=site,
        published=revisions.published_revision(site),
        html=install_html(base_url, site.site_key),
        plain_url=f"{base_url.rstrip('/')}/s/{site.site_key}.js",
    )
