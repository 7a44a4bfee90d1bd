"""The site configuration document: the import/export format and the admin API's draft."""

import re
from urllib.parse import urlsplit

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from cmp_server.schemas.text import Line, Text, check_line
from cmp_server.services.texts import TEXT_KEYS
from cmp_server.services.timefmt import DEFAULT_ZONE, zone_problem
from cmp_server.vocabulary import (
    CONSENT_MODE_SIGNALS,
    LOOK_POSITIONS,
    REGIMES,
    TRACKER_KINDS,
    VISITOR_OPTION_DEFAULTS,
)

# marshmallow's Regexp uses re.match: `\Z` ends the match at the end of the text (`$` would
# also match before a trailing newline, so "#ffffff\n" would pass as a colour).
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
CATEGORY_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")
COLOR = re.compile(r"#[0-9a-fA-F]{6}\Z")
REGIME_KEY = re.compile(r"(default|EEA|[A-Z]{2})\Z")
HOST_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")
# Second-level labels that registries sell under a country code (co.uk, com.au, ne.jp...):
# `*.co.uk` would cover every company in the UK. Without a public suffix list this catches
# the common ones; any other wildcard needs two labels after `*.`.
REGISTRY_LABELS = {"ac", "co", "com", "edu", "go", "gob", "gov", "ltd", "ne", "net", "or", "org"}


def wildcard_is_bounded(host: str) -> bool:
    """Whether a wildcard host covers only the subdomains of one named domain: `*.` then at
    least two labels (`*.shop.example`), not a registry's (`*.co.uk`). `*`, `*.com` and a
    `*` anywhere else are not."""
    if not host.startswith("*."):
        return False
    labels = host[2:].split(".")
    if len(labels) < 2 or not all(HOST_LABEL.match(label) for label in labels):
        return False
    return not (len(labels) == 2 and labels[0] in REGISTRY_LABELS and len(labels[1]) == 2)


def normalise_origin(value: str) -> str:
    """`https://Shop.example:443/` -> `https://shop.example`; `https://*.shop.example` allowed,
    `https://*` and `https://*.com` refused (they would let any site post consents)."""
    check_line(value)
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"{value!r} is not an origin like https://shop.example")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValidationError(f"{value!r} must be an origin only: scheme, host and port")
    host = parts.hostname.lower()
    if "*" in host and not wildcard_is_bounded(host):
        raise ValidationError(
            f"{value!r}: a wildcard may only stand for the subdomains of one domain you own, "
            "like https://*.shop.example"
        )
    default_port = {"http": 80, "https": 443}[parts.scheme]
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(f"{value!r} has an invalid port") from None
    port_part = f":{port}" if port and port != default_port else ""
    return f"{parts.scheme}://{host}{port_part}"


def check_time_zone(name: str) -> None:
    """An IANA time zone name the tz database knows (`Europe/Paris`, `UTC`)."""
    problem = zone_problem(name)
    if problem:
        raise ValidationError(problem)


def check_origin_list(origins: list[str]) -> None:
    """Raise one ValidationError naming each bad origin by its index (as field errors are)."""
    errors = {}
    for i, origin in enumerate(origins):
        try:
            normalise_origin(origin)
        except ValidationError as exc:
            errors[i] = exc.messages
    if errors:
        raise ValidationError(errors)


class HttpUrl(fields.Url):
    """An http(s) URL (no javascript:, data: or other schemes)."""

    def __init__(self, **kwargs):
        super().__init__(schemes={"http", "https"}, require_tld=False, **kwargs)


class StrictBool(fields.Boolean):
    """Only JSON true and false: "yes", 1 or "true" are errors, not guesses."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class LabelSchema(Schema):
    """A category's title and description in one language."""

    title = Line(required=True, validate=validate.Length(1, 200))
    description = Text(load_default="", validate=validate.Length(0, 5000))


class Translated(fields.Field):
    """A text the visitor reads, per language: `{"en": "Counts visits", "fr": "…"}`. A plain
    string (the format before translations) is the default language's text:
    `SiteConfigSchema` turns it into `{default_language: text}`. Empty texts are dropped."""

    def __init__(self, text: fields.Field, **kwargs):
        metadata = {
            "description": "a text, or an object of texts by language tag",
            "oneOf": [
                {"type": "string"},
                {"type": "object", "additionalProperties": {"type": "string"}},
            ],
        }
        super().__init__(metadata=metadata, **kwargs)
        self.text = text

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return self.text.deserialize(value)
        if not isinstance(value, dict):
            raise ValidationError('give a text, or an object of texts by language like {"en": …}')
        errors, texts = {}, {}
        for lang, text in value.items():
            try:
                if not isinstance(lang, str) or not LANGUAGE.match(lang):
                    raise ValidationError("not a language tag like en or fr")
                texts[lang] = self.text.deserialize(text)
            except ValidationError as exc:
                errors[lang] = exc.messages
        if errors:
            raise ValidationError(errors)
        return {lang: text for lang, text in texts.items() if text}


def per_language(value: str | dict, language: str) -> dict:
    """A `Translated` value as texts by language (a plain string is `language`'s)."""
    if isinstance(value, dict):
        return value
    return {language: value} if value else {}


class TrackerSchema(Schema):
    """A cookie, beacon, fingerprinting script or storage item. `cookies` names the cookies
    (or, for kind storage, the storage keys) to delete on refusal; `name*` is a prefix.
    `purpose` and `duration` are shown to visitors, so they are translated (`Translated`)."""

    name = Line(required=True, validate=validate.Length(1, 200))
    provider = Line(required=True, validate=validate.Length(1, 200))
    kind = fields.String(required=True, validate=validate.OneOf(TRACKER_KINDS))
    purpose = Translated(Text(validate=validate.Length(0, 2000)), load_default=dict)
    duration = Translated(Line(validate=validate.Length(0, 100)), load_default=dict)
    cookies = fields.List(Line(validate=validate.Length(1, 200)), load_default=list)
    domains = fields.List(Line(validate=validate.Length(1, 253)), load_default=list)
    privacy_policy_url = HttpUrl(load_default=None, allow_none=True)


class CategorySchema(Schema):
    """A purpose: key, whether it is strictly necessary, GPC and Consent Mode, labels, trackers."""

    key = fields.String(
        required=True,
        validate=validate.Regexp(
            CATEGORY_KEY, error="use lower-case letters, digits, - and _ (at most 64)"
        ),
    )
    required = fields.Boolean(load_default=False)
    honor_gpc = fields.Boolean(load_default=None, allow_none=True)
    consent_mode = fields.List(
        fields.String(validate=validate.OneOf(CONSENT_MODE_SIGNALS)), load_default=list
    )
    labels = fields.Dict(
        keys=fields.String(validate=validate.Regexp(LANGUAGE)),
        values=fields.Nested(LabelSchema),
        required=True,
    )
    trackers = fields.List(fields.Nested(TrackerSchema), load_default=list)

    @post_load
    def default_gpc(self, data, **kwargs):
        if data["honor_gpc"] is None:
            data["honor_gpc"] = not data["required"]
        return data


class ColorsSchema(Schema):
    """The banner's colours, as #rrggbb."""

    background = fields.String(validate=validate.Regexp(COLOR))
    text = fields.String(validate=validate.Regexp(COLOR))
    accept_background = fields.String(validate=validate.Regexp(COLOR))
    accept_text = fields.String(validate=validate.Regexp(COLOR))
    reject_background = fields.String(validate=validate.Regexp(COLOR))
    reject_text = fields.String(validate=validate.Regexp(COLOR))
    link = fields.String(validate=validate.Regexp(COLOR))


class LookSchema(Schema):
    """The banner's position and colours."""

    position = fields.String(validate=validate.OneOf(LOOK_POSITIONS))
    colors = fields.Nested(ColorsSchema)


class SiteConfigSchema(Schema):
    """A site's whole configuration as one JSON document (DESIGN.md, "Site configuration")."""

    class Meta:
        ordered = True

    name = Line(required=True, validate=validate.Length(1, 200))
    origins = fields.List(Line(), load_default=list)
    languages = fields.List(
        fields.String(validate=validate.Regexp(LANGUAGE, error="not a language tag like en or fr")),
        load_default=lambda: ["en"],
        validate=validate.Length(min=1, error="give at least one language"),
    )
    default_language = fields.String(load_default=None)
    privacy_policy_url = HttpUrl(load_default=None, allow_none=True)
    consent_lifetime_days = fields.Integer(
        strict=True, load_default=182, validate=validate.Range(1, 3650)
    )
    retention_days = fields.Integer(
        strict=True, load_default=5 * 365, validate=validate.Range(1, 36500)
    )
    # The IANA zone the console shows the site's dates in (display only, not published).
    time_zone = fields.String(
        load_default=DEFAULT_ZONE,
        validate=check_time_zone,
        metadata={
            "description": "IANA time zone the console shows the site's dates in (display "
            "only: exports, proofs and the API stay in UTC)",
            "example": "Europe/Paris",
        },
    )
    # After a refusal or a closed banner, the banner does not ask again for this long
    # (unless a revision requires re-consent).
    refusal_interval_days = fields.Integer(
        strict=True,
        load_default=VISITOR_OPTION_DEFAULTS["refusal_interval_days"],
        validate=validate.Range(1, 3650),
    )
    # Reload the page after a decision that takes away a category whose code ran in it.
    reload_on_withdraw = StrictBool(load_default=VISITOR_OPTION_DEFAULTS["reload_on_withdraw"])
    # A floating "privacy settings" button once the banner is gone.
    floating_button = StrictBool(load_default=VISITOR_OPTION_DEFAULTS["floating_button"])
    regimes = fields.Dict(
        keys=fields.String(
            validate=validate.Regexp(REGIME_KEY, error="use default, EEA or a country code like US")
        ),
        values=fields.String(validate=validate.OneOf(REGIMES)),
        load_default=lambda: {"default": "opt_in"},
    )
    texts = fields.Dict(
        keys=fields.String(validate=validate.Regexp(LANGUAGE)),
        values=fields.Dict(
            keys=fields.String(validate=validate.OneOf(TEXT_KEYS)),
            values=Text(validate=validate.Length(0, 5000)),
        ),
        load_default=dict,
    )
    look = fields.Nested(LookSchema, load_default=dict)
    categories = fields.List(fields.Nested(CategorySchema), load_default=list)

    @validates("origins")
    def check_origins(self, value, data_key, **kwargs):
        check_origin_list(value)

    @validates_schema
    def check_consistency(self, data, **kwargs):
        languages = data.get("languages") or []
        if len(set(languages)) != len(languages):
            raise ValidationError("each language once", "languages")
        default = data.get("default_language")
        if default is not None and default not in languages:
            raise ValidationError(f"{default!r} is not one of languages", "default_language")
        for lang in data.get("texts", {}):
            if lang not in languages:
                raise ValidationError(f"texts for {lang!r}, which is not in languages", "texts")
        keys = [c["key"] for c in data.get("categories", [])]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValidationError(f"category keys must be unique: {duplicates}", "categories")
        for category in data.get("categories", []):
            if not any(lang in category["labels"] for lang in languages):
                raise ValidationError(
                    f"category {category['key']!r} has no label in the site's languages",
                    "categories",
                )

    @post_load
    def normalise(self, data, **kwargs):
        data["origins"] = sorted({normalise_origin(o) for o in data["origins"]})
        if data.get("default_language") is None:
            data["default_language"] = data["languages"][0]
        for category in data["categories"]:
            for tracker in category["trackers"]:
                for field in ("purpose", "duration"):
                    tracker[field] = per_language(tracker[field], data["default_language"])
        return data


site_config_schema = SiteConfigSchema()


class SiteCreateSchema(Schema):
    """`accord site create` and the admin API: a new site from a name and its origins."""

    name = Line(required=True, validate=validate.Length(1, 200))
    origins = fields.List(Line(), load_default=list)

    @validates("origins")
    def check_origins(self, value, data_key, **kwargs):
        check_origin_list(value)


class SiteSummarySchema(Schema):
    """A site as listed by the admin API: key, name, origins, published revision."""

    site_key = fields.String()
    name = fields.String()
    origins = fields.List(fields.String())
    published_revision = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
