"""The public route table: snippet, configuration, consents, device rights, health, OpenAPI."""

import json
import uuid

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import quote_etag

from cmp_server import strict_json
from cmp_server.database import health_read, read_within
from cmp_server.extensions import db, limiter
from cmp_server.http_headers import SECURITY_HEADERS
from cmp_server.public.consent_fast_path import COUNTED
from cmp_server.public.cors import add_cors_headers, check_origin, origin_allowed
from cmp_server.public.snippet_fast_path import answer_key
from cmp_server.schemas.consent import ConsentInSchema, ConsentRecordSchema
from cmp_server.services import (
    client_config,
    consents,
    device_secrets,
    lookup,
    revisions,
    sites,
    visitor_texts,
    witnesses,
)
from cmp_server.services.errors import (
    InvalidInput,
    NotFound,
    StorageUnavailable,
    UnsupportedMediaType,
)
from cmp_server.services.snippet import (
    SnippetAnswer,
    archived_ui_chunk,
    remember_answer,
    render_snippet,
    ui_chunk,
)
from cmp_server.visitor import country_from_request, sends_gpc, visitor_context

bp = Blueprint("public", __name__)
consent_in = ConsentInSchema()
record_out = ConsentRecordSchema()
JSON_TYPES = ("application/json", "text/plain")
PUBLIC_CACHE = "public, max-age=60, stale-while-revalidate=600"


FORWARDED_BASE_HEADERS = ("X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port")


def api_base(site_key: str) -> str:
    """The site's public API root as the browser must call it: under ACCORD_PUBLIC_URL when
    set, else from the request's scheme and host as seen through trusted proxies."""
    public_url = current_app.config.get("ACCORD_PUBLIC_URL")
    root = f"{public_url}/" if public_url else request.url_root
    return f"{root}api/v1/sites/{site_key}"


def base_from_forwarded_headers() -> bool:
    """Whether the API base was built from X-Forwarded-* headers, which a client may have
    sent: such an answer must not be shared by a cache (X-Forwarded-Host poisoning)."""
    config = current_app.config
    if config.get("ACCORD_PUBLIC_URL") or not config["ACCORD_PROXY_COUNT"]:
        return False
    return any(name in request.headers for name in FORWARDED_BASE_HEADERS)


def visitor_config(state: lookup.SiteState, country: str | None) -> tuple:
    """(cache key, builder, revision rules) of the client configuration for a visitor from
    `country`."""
    rules = lookup.revision_rules(state.id, state.published)
    regime = client_config.regime_for(rules.regimes, country)
    gpc = sends_gpc(request.headers.get("Sec-GPC"))
    api = api_base(state.site_key)

    def build():
        revision = revisions.get_revision(sites.get_site(state.site_key), state.published)
        return client_config.client_config(revision, state.site_key, regime, api, gpc)

    # The number, not only the hash: a revert publishes an older revision's hash under a new
    # number (and a new re-consent point), and must not be served the older rendering.
    return (state.site_key, rules.number, rules.hash, regime, gpc, api), build, rules


def cache_policy(rules: lookup.RevisionRules) -> tuple[str, tuple[str, ...]]:
    """Cache-Control, and the request headers an answer varies on besides Accept-Encoding.
    Cacheable by a CDN only when every visitor gets the same answer, or the CDN varies on
    the trusted country header, and the API base in it does not come from forwarded headers."""
    country_header = current_app.config.get("ACCORD_COUNTRY_HEADER")
    if base_from_forwarded_headers():
        return "private, max-age=60", ("Sec-GPC",)
    if len(set(rules.regimes.values()) | {"opt_in"}) == 1:
        return PUBLIC_CACHE, ("Sec-GPC",)
    if country_header:
        return PUBLIC_CACHE, (country_header, "Sec-GPC")
    return "private, max-age=60", ("Sec-GPC",)


def cache_headers(response: Response, rules: lookup.RevisionRules) -> Response:
    cache_control, vary = cache_policy(rules)
    response.headers["Cache-Control"] = cache_control
    response.vary.update(vary)
    return response


@bp.after_request
def cors_on_errors(response: Response) -> Response:
    """Errors (400, 409, 413, 429, ...) reach an allowed origin's script as statuses, not as
    network failures, so the snippet can tell "drop it" from "retry later"."""
    origin = request.headers.get("Origin")
    site_key = (request.view_args or {}).get("site_key")
    if (
        response.status_code < 400
        or not origin
        or not site_key
        or not request.path.startswith("/api/")
    ):
        return response
    if "Access-Control-Allow-Origin" in response.headers:
        return response
    try:  # an error must not wait for the database: the origins last read will do
        state = lookup.known_state(site_key) or lookup.site_state(site_key)
    except (NotFound, StorageUnavailable, SQLAlchemyError):
        return response
    if origin_allowed(origin, state.origins):
        add_cors_headers(response, origin, "GET, POST, DELETE")
    return response


def script_error(message: str) -> Response:
    """A 404 that is still JavaScript, so the page's console says what is wrong."""
    text = json.dumps(f"Accord: {message}")
    return Response(f"console.warn({text});", 404, mimetype="text/javascript")


# Whether a snippet variant embeds the visitor texts: the full snippet does, so its banner
# paints without another round trip (the visitor's one language when the inline stub names
# it, `?lang=`; every language of the site for the plain <script> tag); the core does not,
# and its UI fetches the visitor's one language (GET /s/KEY/texts.REV.LANG.json).
EMBEDS_TEXTS = {"full": True, "core": False}


def bounded_snippet_config(
    key: tuple, build, texts: bool = True, language: str | None = None
) -> dict:
    """The configuration of a snippet not rendered yet in this worker, read in a thread of its
    own: when the database hangs, a visitor's page gets a 503 within ACCORD_DB_WAIT_SECONDS
    and the threads serving kept snippets are not held."""
    wait = current_app.config["ACCORD_DB_WAIT_SECONDS"]
    try:
        return read_within(
            ("snippet", key, texts, language),
            lambda: client_config.snippet_config(build(), texts=texts, language=language),
            wait,
        )
    except TimeoutError:
        raise StorageUnavailable("The database did not answer in time.") from None


@bp.get("/s/<site_key>.js")
@limiter.exempt  # served from memory on every page view, usually through a CDN
def snippet(site_key):
    return snippet_response(site_key, "full")


@bp.get("/s/<site_key>.core.js")
@limiter.exempt
def snippet_core(site_key):
    """The snippet without its banner UI, which it fetches when needed: what the inline stub
    loads for a visitor who has already decided."""
    return snippet_response(site_key, "core")


UI_HEADERS = (("Vary", "Accept-Encoding"), ("Cache-Control", "public, max-age=31536000, immutable"))


JSON_TYPE = "application/json; charset=utf-8"
TEXTS_HEADERS = (
    ("Vary", "Accept-Encoding"),
    ("Cache-Control", "public, max-age=31536000, immutable"),
    ("Access-Control-Allow-Origin", "*"),  # public texts, fetched from the site's pages
)


@bp.get("/s/<site_key>/texts.<int:revision>.<lang>.json")
@limiter.exempt
def snippet_texts(site_key, revision, lang):
    """What a visitor reads in one language (services/visitor_texts.py), fetched by the banner
    UI: a revision never changes, so cached for a year, immutable."""
    rendered = visitor_texts.render_payload(site_key, revision, lang)
    status, headers, body = SnippetAnswer(rendered, TEXTS_HEADERS, 0.0).respond(
        request.headers.get("If-None-Match"), request.headers.get("Accept-Encoding", "")
    )
    headers = [("Content-Type", JSON_TYPE) if h[0] == "Content-Type" else h for h in headers]
    return Response(body, status, [("ETag", quote_etag(rendered.etag)), *headers])


@bp.get("/s/ui.<digest>.js")
@limiter.exempt
def snippet_ui(digest):
    """The banner UI chunk the core snippet fetches; its name holds its hash, so it never
    changes: cached for a year, immutable. An earlier build's chunk too (a core snippet
    cached before a deploy asks for the UI it was built with), while the archive has it."""
    name, rendered = ui_chunk()
    if f"ui.{digest}.js" != name:
        archived = archived_ui_chunk(f"ui.{digest}.js")
        if archived is None:
            return script_error(f"ui.{digest}.js is not this server's build; reload the page.")
        rendered = archived
    status, headers, body = SnippetAnswer(rendered, UI_HEADERS, 0.0).respond(
        request.headers.get("If-None-Match"), request.headers.get("Accept-Encoding", "")
    )
    return Response(body, status, [("ETag", quote_etag(rendered.etag)), *headers])


def snippet_response(site_key: str, variant: str) -> Response:
    """GET /s/KEY.js or /s/KEY.core.js: rendered once per revision and visitor variant, kept
    for the fast path under the path's stem."""
    try:
        state = lookup.site_state(site_key, stale_if_unavailable=True)
    except NotFound:
        return script_error(f"no site has the key {site_key}; check the snippet's URL.")
    if state.published is None:
        return script_error(f"site {site_key} has nothing published yet.")
    country = country_from_request()
    key, build, rules = visitor_config(state, country)
    texts = EMBEDS_TEXTS.get(variant, True)
    # The inline stub names the visitor's languages (<html lang>, then the browser's): the
    # full snippet then carries the one the site offers them, not all.
    wanted = request.args.get("lang") if texts else None
    language = (
        client_config.pick_language(rules.languages, rules.default_language, wanted)
        if wanted is not None
        else None
    )
    rendered = render_snippet(
        (*key, language),
        lambda: bounded_snippet_config(key, build, texts, language),
        variant,
    )
    cache_control, vary = cache_policy(rules)
    headers = (
        ("ETag", quote_etag(rendered.etag)),
        ("Vary", ", ".join(("Accept-Encoding", *vary))),
        ("Cache-Control", cache_control),
        *SECURITY_HEADERS,  # the fast path replays these without Flask's hooks
    )
    answer = SnippetAnswer(rendered, headers, state.fresh_until)
    stem = site_key if variant == "full" else f"{site_key}.{variant}"
    remember_answer(answer_key(request.environ, stem, country), answer)
    status, headers, body = answer.respond(
        request.headers.get("If-None-Match"), request.headers.get("Accept-Encoding", "")
    )
    return Response(body, status, headers)


@bp.get("/api/v1/sites/<site_key>/config")
def site_config(site_key):
    state = lookup.site_state(site_key)
    origin = check_origin(state.origins)
    if state.published is None:
        raise InvalidInput(f"Site {site_key!r} has nothing published yet.", code="not_published")
    _, build, rules = visitor_config(state, country_from_request())
    response = jsonify(build())
    return add_cors_headers(cache_headers(response, rules), origin, "GET")


def parse_json_body() -> dict:
    """The body as a JSON object, from application/json or text/plain (sendBeacon)."""
    if request.mimetype not in JSON_TYPES:
        raise UnsupportedMediaType("Send the consent as application/json or text/plain.")
    raw = request.get_data(cache=False)
    try:
        body = strict_json.loads(raw.decode("utf-8"))  # no lone surrogate (a 500 later)
    except UnicodeDecodeError:
        raise InvalidInput("The body is not valid UTF-8.", code="invalid_json") from None
    except (ValueError, RecursionError):
        raise InvalidInput("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.", code="invalid_json")
    return body


def _consent_rate_limit():
    return current_app.config["ACCORD_CONSENT_RATE_LIMIT"]


def _consent_rate_cost() -> int:
    """0 for a consent the fast path already counted and handed on (the limit is still
    checked, so a reached limit still answers 429); 1 otherwise."""
    return 0 if request.environ.get(COUNTED) else 1


@bp.post("/api/v1/sites/<site_key>/consents", provide_automatic_options=False)
@limiter.limit(_consent_rate_limit, cost=_consent_rate_cost)
def record_consent(site_key):
    """Ordinary consents are answered before Flask (public/consent_fast_path.py), with the
    same services and the same answer; this route answers the rest, and words every error."""
    state = lookup.site_state(site_key)
    origin = check_origin(state.origins)
    data = consent_in.load(parse_json_body())
    pending = consents.prepare_consent(state, data, visitor_context())
    receipt, replayed = consents.record_consent(pending, current_app.extensions["accord_committer"])
    response = jsonify(receipt)
    response.status_code = 201
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return add_cors_headers(response, origin, "POST")


@bp.route("/api/v1/sites/<site_key>/consents", methods=["OPTIONS"])
@bp.route("/api/v1/sites/<site_key>/devices/<device_id>/consents", methods=["OPTIONS"])
def preflight(site_key, device_id=None):
    state = lookup.site_state(site_key)
    origin = check_origin(state.origins)
    methods = "GET, DELETE" if device_id else "POST"
    return add_cors_headers(Response(status=204), origin, methods)


def _device_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInput(
            "device_id must be a UUID.", fields={"device_id": ["not a UUID"]}
        ) from None


@bp.get("/api/v1/sites/<site_key>/devices/<device_id>/consents", provide_automatic_options=False)
def device_history(site_key, device_id):
    state = lookup.site_state(site_key)
    origin = check_origin(state.origins)
    device_id = _device_id(device_id)
    secret = request.headers.get(device_secrets.HEADER)
    records = consents.device_history(state.id, device_id, secret)
    response = jsonify({"device_id": device_id, "consents": record_out.dump(records, many=True)})
    response.headers["Cache-Control"] = "no-store"
    return add_cors_headers(response, origin, "GET, DELETE")


@bp.delete("/api/v1/sites/<site_key>/devices/<device_id>/consents", provide_automatic_options=False)
def erase_device(site_key, device_id):
    state = lookup.site_state(site_key)
    origin = check_origin(state.origins)
    device_id = _device_id(device_id)
    secret = request.headers.get(device_secrets.HEADER)
    erased = consents.erase_device(state.id, device_id, secret)
    db.session.commit()
    return add_cors_headers(
        jsonify({"device_id": device_id, "erased": erased}), origin, "GET, DELETE"
    )


@bp.get("/healthz")
def healthz():
    """Readiness: 503 when the database does not answer within ACCORD_HEALTH_TIMEOUT_SECONDS
    (a load balancer then sends traffic elsewhere). With witnesses configured, it also says
    how far behind each one is (its worst site), read within the same bound; a lag is shown,
    never a reason to answer 503."""
    urls = witnesses.configured()
    read = (lambda conn: witnesses.worst_lags(witnesses.lags(conn, urls))) if urls else None
    answers, lag = health_read(read)
    if not answers:
        raise StorageUnavailable("The database does not answer.")
    body = {"status": "ok", "database": "ok"}
    if urls:
        body["witnesses"] = {url: lag.get(url, {"cosigned_size": 0, "behind": 0}) for url in urls}
    return jsonify(body)


@bp.get("/livez")
def livez():
    """Liveness: the process serves requests. Never touches the database, so an orchestrator
    does not restart a healthy server because its database hangs."""
    return jsonify({"status": "ok"})


@bp.get("/api/v1/openapi.json")
def openapi():
    from cmp_server.openapi import openapi_document

    return jsonify(openapi_document())
