"""The staff side: the admin console (/admin/) and the admin JSON API (/api/v1/admin/)."""


def register_admin(app):
    """Register both blueprints, Flask-Login's settings and the security headers."""
    from cmp_server.admin import (  # noqa: F401 - importing a module adds its routes
        api,
        auth,
        context,
        dashboard,
        draft,
        errors,
        install,
        keys,
        metrics,
        people,
        preview,
        proofs,
        retention,
        scans,
        scans_api,
        sites,
    )
    from cmp_server.admin.blueprint import api_bp, bp
    from cmp_server.admin.security import add_security_headers
    from cmp_server.extensions import csrf

    auth.configure_login_manager()
    csrf.exempt(api_bp)  # bearer tokens only: no ambient credential to forge
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.after_request(add_security_headers)
