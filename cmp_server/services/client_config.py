"""What the browser is given: a published revision shaped for one visitor.

`GET /api/v1/sites/<key>/config` serves `client_config` whole; the snippet embeds the smaller
`snippet_config`. The regime (opt_in, opt_out, notice) follows the visitor's country.
"""

import json

from cmp_server.models import Revision, Site
from cmp_server.schemas.site import per_language
from cmp_server.services import revisions, visitor_texts
from cmp_server.vocabulary import EEA_COUNTRIES, VISITOR_OPTION_DEFAULTS


def regime_for(regimes: dict, country: str | None) -> str:
    """The regime for a visitor's country; an unknown country gets the strictest, opt_in."""
    if not country:
        return "opt_in"
    if country in regimes:
        return regimes[country]
    if country in EEA_COUNTRIES and "EEA" in regimes:
        return regimes["EEA"]
    return regimes.get("default", "opt_in")


def client_config(revision: Revision, site_key: str, regime: str, api: str, gpc: bool) -> dict:
    """What the snippet and `GET /config` give the browser for one visitor."""
    return {
        "site_key": site_key,
        "revision": revision.number,
        "revision_hash": revision.config_hash,
        "regime": regime,
        "reconsent_revision": revision.reconsent_revision,
        "consent_lifetime_days": json.loads(revision.canonical_json)["consent_lifetime_days"],
        "gpc": gpc,
        "api": api,
        "config": json.loads(revision.canonical_json),
    }


# What the banner never reads: left out of the snippet, where every byte is paid on every
# page view. `GET /config` keeps the whole document.
SNIPPET_UNUSED = ("name", "regimes", "consent_lifetime_days")
SNIPPET_UNUSED_CLIENT = ("revision_hash", "site_key")


TRANSLATED_TRACKER_FIELDS = ("purpose", "duration")
# Texts shown under one regime only (banner.js): left out of the snippet for the others.
REGIME_ONLY_TEXTS = {"do_not_sell": "opt_out", "notice_ok": "notice"}


def only(by_language: dict, languages: list[str]) -> dict:
    """The texts of the languages the site offers: a page never downloads the others."""
    return {lang: text for lang, text in by_language.items() if lang in languages}


# What a tracker keeps in a configuration without texts: what the engine needs to delete
# refused cookies and storage keys.
TRACKER_ENGINE_FIELDS = ("kind", "cookies")


def without_texts(config: dict) -> dict:
    """A snippet configuration without what the visitor reads (banner texts, labels, tracker
    details): the core snippet's. The UI fetches them in the visitor's one language
    (services/visitor_texts.py, GET /s/KEY/texts.REV.LANG.json) when it must show."""
    config = {k: v for k, v in config.items() if k != "texts"}
    config["categories"] = [
        {
            **{k: v for k, v in category.items() if k not in ("labels", "trackers")},
            "trackers": [
                {k: v for k, v in tracker.items() if k in TRACKER_ENGINE_FIELDS}
                for tracker in category["trackers"]
            ],
        }
        for category in config["categories"]
    ]
    return config


# How many of the visitor's language tags (GET /s/KEY.js?lang=...) are looked at, and how long
# the parameter may be: a browser sends a handful; more is ignored, never an error.
MAX_LANGUAGE_TAGS = 16
MAX_LANGUAGE_PARAM = 512


def pick_language(languages: list[str] | tuple[str, ...], default: str, wanted: str) -> str:
    """The site language for a visitor's comma-separated language tags (the page's
    <html lang>, then the browser's, as the inline stub sends them): the first tag the site
    offers, whole then its primary language ("fr-CA", then "fr"), case-insensitively; else
    the site's default. The same choice as snippet/src/i18n.js pickLanguage."""
    offered = {lang.lower(): lang for lang in languages}
    for tag in wanted[:MAX_LANGUAGE_PARAM].split(",")[:MAX_LANGUAGE_TAGS]:
        tag = tag.strip().lower()
        for want in (tag, tag.split("-")[0]) if tag else ():
            if want in offered:
                return offered[want]
    return default


# What the first layer, the iframe placeholder and the floating button show (snippet/src/
# banner.js): all a language's texts the full snippet carries when the inline stub names the
# visitor's language. The preferences dialog's texts, categories' descriptions and trackers
# come with its code, when the visitor is about to open it (GET /s/KEY/texts.REV.LANG.json).
FIRST_LAYER_TEXTS = (
    "title",
    "description",
    "privacy_policy",
    "accept_all",
    "reject_all",
    "do_not_sell",
    "notice_ok",
    "customize",
    "close",
    "gpc_notice",
    "blocked_content",
    "allow_content",
    "settings",
    "preferences_failed",
    "retry",
)


def first_layer_payload(payload: dict, unshown: list[str]) -> dict:
    """A language payload cut to what the first layer shows: its texts (without those of
    other regimes) and each category's title (the iframe placeholder names it)."""
    texts = payload["texts"]
    return {
        "lang": payload["lang"],
        "texts": {k: texts[k] for k in FIRST_LAYER_TEXTS if k in texts and k not in unshown},
        "categories": {key: {"title": c["title"]} for key, c in payload["categories"].items()},
    }


def snippet_config(client: dict, texts: bool = True, language: str | None = None) -> dict:
    """The client configuration as embedded in the snippet: unused and empty values dropped
    (false ones too: the snippet reads a missing flag as false), and visitor options that
    hold their default. Without `texts`, nothing the visitor reads (`without_texts`). With a
    `language`, the configuration without texts and, under "texts", that one language's
    first-layer texts (`first_layer_payload` of GET /s/KEY/texts.REV.LANG.json's payload,
    fallbacks resolved): what the inline stub asks for a first visit."""
    config = {
        k: v
        for k, v in client["config"].items()
        if k not in SNIPPET_UNUSED
        and not (k in VISITOR_OPTION_DEFAULTS and VISITOR_OPTION_DEFAULTS[k] == v)
    }
    languages = config["languages"]
    # The first layer's button for another regime is never shown to this visitor.
    unshown = [key for key, regime in REGIME_ONLY_TEXTS.items() if regime != client["regime"]]
    config["texts"] = {
        lang: {k: v for k, v in texts.items() if k not in unshown}
        for lang, texts in config["texts"].items()
    }
    config["categories"] = [
        {
            **{
                k: v for k, v in category.items() if (v != [] and v is not False) or k == "trackers"
            },
            "labels": only(category["labels"], languages),
            "trackers": [
                {
                    k: only(per_language(v, config["default_language"]), languages)
                    if k in TRANSLATED_TRACKER_FIELDS
                    else v
                    for k, v in tracker.items()
                    if v not in (None, [], "", {}) and k != "domains"
                }
                for tracker in category["trackers"]
            ],
        }
        for category in config["categories"]
    ]
    snippet = {k: v for k, v in client.items() if k not in SNIPPET_UNUSED_CLIENT and v is not False}
    snippet["config"] = config if texts and not language else without_texts(config)
    if language:
        payload = visitor_texts.language_payload(client["config"], language)
        snippet["texts"] = first_layer_payload(payload, unshown)
    return snippet


def preview_config(site: Site, regime: str, api: str, look: dict | None = None) -> dict:
    """The client configuration of the draft, for the console's preview: numbered as the
    next revision, decisions sent to `api` (a sink that records nothing) and kept 0 days.
    `look`: the Look page's unsaved position and colours, for its sample."""
    snapshot = revisions.revision_snapshot(site)
    if look:
        snapshot["look"] = {
            "position": look.get("position", snapshot["look"]["position"]),
            "colors": {**snapshot["look"]["colors"], **look.get("colors", {})},
        }
    # Refusals too are kept 0 days, so the preview asks again each time.
    snapshot["refusal_interval_days"] = 0
    published = revisions.published_revision(site)
    number = (published.number if published else 0) + 1
    return {
        "site_key": site.site_key,
        "revision": number,
        "revision_hash": "preview",
        "regime": regime,
        "reconsent_revision": number,
        "consent_lifetime_days": 0,
        "gpc": False,
        "api": api,
        "preview": True,
        "config": snapshot,
    }
