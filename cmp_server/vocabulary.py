"""The one vocabulary shared by the snippet, the API, the database and the exports.

snippet/src/constants.js spells the same values; tests/test_vocabulary.py checks they agree.
"""

# `close`: the visitor closed the first layer (✕ or Escape) without choosing; it refuses like
# `reject_all` but is recorded as what it was.
ACTIONS = ("accept_all", "reject_all", "custom", "withdraw", "gpc", "close")
TRACKER_KINDS = ("cookie", "beacon", "fingerprinting", "storage")
REGIMES = ("opt_in", "opt_out", "notice")
ROLES = ("admin", "marketer", "dpo")
CONSENT_MODE_SIGNALS = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)
LOOK_POSITIONS = ("bottom", "top", "center", "bottom-left", "bottom-right")

# EEA member states: the "EEA" key of a site's regime rules covers these.
EEA_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)

CONSENT_COOKIE = "accord_consent"

# A site's options for the visitor's side and their defaults (docs/site-config.md). The snippet
# knows the defaults (snippet/src/constants.js REFUSAL_INTERVAL_DAYS), so the server leaves an
# option that holds its default out of the embedded configuration.
VISITOR_OPTION_DEFAULTS = {
    "refusal_interval_days": 182,
    "reload_on_withdraw": True,
    "floating_button": False,
}
