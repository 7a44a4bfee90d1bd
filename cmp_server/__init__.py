"""Accord: a self-hosted cookie consent management platform.

This module imports nothing at load time: the offline verifier (`cmp_server.proof`,
`accord-verify`) must run where Flask and the app's settings are absent."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict | None = None) -> "Flask":
    """Build the app: settings from the environment (overridden by `config`), extensions,
    blueprints, error handlers and CLI. Nothing here serves a request."""
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from cmp_server import logs
    from config import Config

    logs.install()  # before anything can log: no full IP, device ID or secret in logs
    app = Flask(__name__, instance_relative_config=False)
    settings = Config.from_env(create_instance=(config or {}).get("ACCORD_CREATE_INSTANCE", True))
    settings.update(config or {})
    if "DATABASE_URL" in (config or {}):
        from config import normalise_database_url

        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["DATABASE_URL"])
    app.config.from_mapping(settings)
    app.instance_path = app.config["ACCORD_INSTANCE_PATH"]
    from cmp_server.sessions import StaffOnlySessions

    app.session_interface = StaffOnlySessions()

    from cmp_server import database, extensions, geo

    database.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=database.MIGRATIONS_DIR)
    extensions.limiter.init_app(app)
    extensions.csrf.init_app(app)
    extensions.login.init_app(app)
    geo.geoip.init_app(app)

    from cmp_server.public.snippet_fast_path import SnippetFastPath

    app.wsgi_app = SnippetFastPath(app.wsgi_app, app)  # inside ProxyFix: sees what Flask sees
    if app.config["ACCORD_PROXY_COUNT"]:
        n = app.config["ACCORD_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    from cmp_server import http_headers

    http_headers.init_app(app)
    from cmp_server.public.routes import bp as public_bp

    extensions.csrf.exempt(public_bp)
    app.register_blueprint(public_bp)
    from cmp_server.public.proof_routes import bp as proof_bp

    extensions.csrf.exempt(proof_bp)
    app.register_blueprint(proof_bp)
    from cmp_server.public.demo import bp as demo_bp

    app.register_blueprint(demo_bp)
    from cmp_server.admin import register_admin

    register_admin(app)

    from cmp_server.errors import register_error_handlers

    register_error_handlers(app)

    from cmp_server.cli import register_cli

    register_cli(app)
    return app
