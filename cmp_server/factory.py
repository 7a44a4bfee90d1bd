"""`create_app`: every piece of the app wired in one place, in the order it matters.

Read it top to bottom: settings, logging, storage and the services' per-app state (GeoIP
reader, site and snippet caches, the notary that signs receipts and checkpoints), the WSGI
layers around Flask, the blueprints, error handlers and CLI. Nothing here serves a request.
"""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from cmp_server import database, extensions, geo, http_headers, logs, visitor
from cmp_server.admin import register_admin
from cmp_server.cli_sites import register_cli
from cmp_server.errors import register_error_handlers
from cmp_server.public.consent_fast_path import ConsentFastPath
from cmp_server.public.demo import bp as demo_bp
from cmp_server.public.proof_routes import bp as proof_bp
from cmp_server.public.routes import bp as public_bp
from cmp_server.public.snippet_fast_path import SnippetFastPath
from cmp_server.services import checkpoints, committers, lookup, snippet
from cmp_server.sessions import StaffOnlySessions
from cmp_server.strict_json import StrictJSONProvider
from config import Config

# Settings a caller may pass that decide what `Config.from_env` would otherwise read from the
# environment (and, for the instance folder and secret key, write to disk).
ENVIRONMENT_SETTINGS = ("SECRET_KEY", "ACCORD_INSTANCE_PATH", "DATABASE_URL")


def load_settings(config: dict | None) -> dict:
    """The environment's settings (config.py), with `config` on top. `config`'s secret key,
    instance folder and database URL are read as if they were in the environment, so a
    caller that gives them never gets ./instance/secret_key written for nothing."""
    config = config or {}
    env = dict(Config.environment())
    env.update({k: str(config[k]) for k in ENVIRONMENT_SETTINGS if config.get(k)})
    settings = Config.from_env(env, create_instance=config.get("ACCORD_CREATE_INSTANCE", True))
    settings.update({k: v for k, v in config.items() if k != "DATABASE_URL"})
    return settings


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from the environment (overridden by `config`), extensions,
    per-app services, blueprints, error handlers and CLI."""
    app = Flask("cmp_server", instance_relative_config=False)
    app.json = StrictJSONProvider(app)  # a lone surrogate in a JSON body is a 400, not a 500
    app.config.from_mapping(load_settings(config))
    app.instance_path = app.config["ACCORD_INSTANCE_PATH"]
    logs.configure(app)  # first: no full IP, device ID or secret in any log line after this
    app.session_interface = StaffOnlySessions()

    database.init_app(app)
    committers.init_app(app)  # seals consents: group commit (services/committers.py)
    database.init_migrations(app)  # the `db` commands; Alembic is imported when one runs
    extensions.limiter.init_app(app)
    extensions.csrf.init_app(app)
    extensions.login.init_app(app)

    geo.init_app(app)  # this app's GeoIP reader (GEOIP_DB)
    if app.config.get("ACCORD_SERVES_REQUESTS", True):  # False for `accord` commands (cli.py)
        visitor.user_agent_parser()  # loaded now, not by a worker's first visitor
    lookup.init_app(app)  # this app's site cache, forgotten on commit of a site change
    snippet.init_app(app)  # this app's rendered snippets and kept answers
    checkpoints.init_app(app)  # the notary: signs receipts, makes checkpoints

    app.wsgi_app = SnippetFastPath(app.wsgi_app, app)  # inside ProxyFix: sees what Flask sees
    app.wsgi_app = ConsentFastPath(app.wsgi_app, app)  # ordinary consents, without Flask
    if proxies := app.config["ACCORD_PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )

    http_headers.init_app(app)  # before the blueprints' hooks, so it runs after them
    for blueprint in (public_bp, proof_bp):  # called from other sites' pages: no CSRF cookie
        extensions.csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(demo_bp)
    register_admin(app)

    register_error_handlers(app)
    register_cli(app)
    return app
