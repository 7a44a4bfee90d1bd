"""The one vocabulary shared by the snippet, the API, the database and the exports.

snippet/src/constants.js spells the same values; tests/test_vocabulary.py checks they agree.
"""

ACTIONS = ("accept_all", "reject_all", "custom", "withdraw", "gpc")
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
