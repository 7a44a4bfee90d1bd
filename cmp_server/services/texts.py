"""Built-in banner texts in the 24 official EU languages, and how staff texts override them.

Publishing merges these under the staff's own texts, so a revision holds every string the
visitor is shown (the proof names the exact wording) and the snippet carries no copy of its own:
a page downloads the texts of the site's languages only, inside the embedded configuration.

The texts live in cmp_server/translations/<lang>.json (see PROVENANCE.md there).
"""

import json
from functools import cache
from pathlib import Path

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

# The official languages of the EU: every one has every key in TEXT_KEYS.
BUILT_IN_LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)  # fmt: skip

TEXT_KEYS = (
    "title",
    "description",
    "accept_all",
    "reject_all",
    "customize",
    "save",
    "close",
    "privacy_policy",
    "preferences_title",
    "preferences_description",
    "always_on",
    "trackers",
    "kind_cookie",
    "kind_beacon",
    "kind_fingerprinting",
    "kind_storage",
    "provider",
    "purpose",
    "duration",
    "gpc_notice",
    "do_not_sell",
    "notice_ok",
    "consent_id",
    "download_history",
    "withdraw",
    "erase",
    "erased",
    "blocked_content",
    "allow_content",
    "settings",
    "erase_confirm",
    "erase_failed",
    "download_failed",
    "preferences_failed",
    "retry",
)


@cache
def built_in_texts(language: str) -> dict[str, str]:
    """The built-in texts of one of BUILT_IN_LANGUAGES, read once per process."""
    path = TRANSLATIONS / f"{language}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def default_texts(language: str) -> dict[str, str]:
    """Accord's texts for a language tag: its own (`de-AT` -> German), with English under
    them for a language Accord has no texts for, or a key not yet translated."""
    english = built_in_texts("en")
    primary = language.split("-")[0].lower()
    if primary not in BUILT_IN_LANGUAGES or primary == "en":
        return dict(english)
    return {**english, **built_in_texts(primary)}


def texts_for(language: str, custom: dict | None) -> dict:
    """Every text key for a language: the staff's text where given, else the default."""
    merged = default_texts(language)
    merged.update({k: v for k, v in (custom or {}).items() if v})
    return merged
