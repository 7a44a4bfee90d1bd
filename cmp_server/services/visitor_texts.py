"""What a visitor reads, in one language: the banner's texts, each purpose's title and
description, and each tracker's details.

The snippet's core carries no visitor text (it must run first on every page: engine,
blocking, Consent Mode). When a layer or a placeholder must show, the UI fetches this one
language's payload, so a page never downloads the languages it does not speak, and a site
offering 24 languages costs a visitor no more than one offering two. Fallbacks are resolved
here, once per revision and language: a string missing in `language` is the default
language's, one string at a time.
"""

import gzip
import hashlib
import json

from flask import current_app

from cmp_server.schemas.site import per_language
from cmp_server.services import revisions, sites
from cmp_server.services.errors import NotFound
from cmp_server.services.snippet import RenderedSnippet, SnippetCache, cache_of
from cmp_server.services.texts import default_texts


def snippet_cache() -> SnippetCache:
    return cache_of(current_app)


def in_language(by_language: dict, language: str, default: str) -> str:
    """The text for `language`, else the default language's, else empty."""
    return by_language.get(language) or by_language.get(default) or ""


def tracker_details(tracker: dict, language: str, default: str) -> dict:
    """What the preferences list of a tracker, empty values left out."""
    details = {
        "name": tracker["name"],
        "provider": tracker.get("provider"),
        "purpose": in_language(
            per_language(tracker.get("purpose", ""), default), language, default
        ),
        "duration": in_language(
            per_language(tracker.get("duration", ""), default), language, default
        ),
        "privacy_policy_url": tracker.get("privacy_policy_url"),
    }
    return {key: value for key, value in details.items() if value}


def language_payload(config: dict, language: str) -> dict:
    """A published revision's visitor texts in one of its languages (NotFound for another)."""
    if language not in config["languages"]:
        raise NotFound(f"The site is not offered in {language!r}.", code="unknown_language")
    default = config["default_language"]
    # Under them, Accord's own (`default_texts`): a revision published before a text key
    # existed (e.g. "preferences_failed") still gets it.
    texts = {
        **default_texts(language),
        **config["texts"].get(default, {}),
        **config["texts"].get(language, {}),
    }
    categories = {}
    for category in config["categories"]:
        labels = category.get("labels", {})
        label = {
            key: labels.get(language, {}).get(key) or labels.get(default, {}).get(key) or ""
            for key in ("title", "description")
        }
        categories[category["key"]] = {
            "title": label["title"] or category["key"],
            **({"description": label["description"]} if label["description"] else {}),
            "trackers": [tracker_details(t, language, default) for t in category["trackers"]],
        }
    return {"lang": language, "texts": texts, "categories": categories}


def revision_payload(site_key: str, number: int, language: str) -> dict:
    """`language_payload` of revision `number` of a site (NotFound for an unknown site,
    revision or language). Any revision, not only the latest: a page may still run the
    snippet of the one before."""
    site = sites.get_site(site_key)
    revision = revisions.get_revision(site, number)
    return language_payload(json.loads(revision.canonical_json), language)


def render_payload(site_key: str, number: int, language: str) -> RenderedSnippet:
    """The payload as JSON bytes, gzipped and with an ETag, made once per revision and
    language in each app (a revision never changes)."""
    cache = snippet_cache()
    key = ("texts", site_key, number, language)
    rendered = cache.rendered.get(key)
    if rendered is None:
        payload = revision_payload(site_key, number, language)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        etag = hashlib.sha256(body).hexdigest()[:32]
        rendered = RenderedSnippet(body, gzip.compress(body, 9, mtime=0), etag)
        with cache.lock:
            cache.rendered[key] = rendered
    return rendered
