"""The demo site: three purposes in English and French, with a tracker of every kind."""

DEMO_SITE_NAME = "Accord demo"


LOCAL_ORIGINS = ["http://127.0.0.1:5000", "http://localhost:5000"]
# Tracker texts are per language, like every text the visitor reads.
MONTHS_13 = {"en": "13 months", "fr": "13 mois"}


def demo_site_config(origins: list[str] | None = None) -> dict:
    """The configuration document of the demo site: trackers of every kind, two languages."""
    return {
        "name": DEMO_SITE_NAME,
        "origins": LOCAL_ORIGINS if origins is None else origins,
        "languages": ["en", "fr"],
        "default_language": "en",
        "privacy_policy_url": "https://demo.accord.invalid/privacy",
        "consent_lifetime_days": 182,
        "regimes": {"default": "opt_in", "EEA": "opt_in", "GB": "opt_in", "US": "opt_out"},
        "texts": {},
        "look": {"position": "bottom"},
        "categories": [
            {
                "key": "necessary",
                "required": True,
                "honor_gpc": False,
                "consent_mode": ["security_storage", "functionality_storage"],
                "labels": {
                    "en": {
                        "title": "Strictly necessary",
                        "description": "Keeps you signed in and remembers your choices.",
                    },
                    "fr": {
                        "title": "Strictement nécessaires",
                        "description": "Vous garde connecté et retient vos choix.",
                    },
                },
                "trackers": [
                    {
                        "name": "session",
                        "provider": "Accord demo",
                        "kind": "cookie",
                        "purpose": {"en": "Keeps your session", "fr": "Maintient votre session"},
                        "duration": {"en": "session", "fr": "session"},
                        "cookies": ["demo_session"],
                        "domains": [],
                    }
                ],
            },
            {
                "key": "analytics",
                "required": False,
                "honor_gpc": True,
                "consent_mode": ["analytics_storage"],
                "labels": {
                    "en": {
                        "title": "Audience measurement",
                        "description": "Counts visits to improve the site.",
                    },
                    "fr": {
                        "title": "Mesure d'audience",
                        "description": "Compte les visites pour améliorer le site.",
                    },
                },
                "trackers": [
                    {
                        "name": "Demo analytics",
                        "provider": "Accord demo",
                        "kind": "cookie",
                        "purpose": {"en": "Counts visits", "fr": "Compte les visites"},
                        "duration": dict(MONTHS_13),
                        "cookies": ["demo_analytics", "_demo_ga*"],
                        "domains": [],
                    },
                    {
                        "name": "Visit counter",
                        "provider": "Accord demo",
                        "kind": "storage",
                        "purpose": {
                            "en": "Remembers how many pages you saw",
                            "fr": "Retient combien de pages vous avez vues",
                        },
                        "duration": dict(MONTHS_13),
                        "cookies": ["demo_visits"],
                        "domains": [],
                    },
                ],
            },
            {
                "key": "marketing",
                "required": False,
                "honor_gpc": True,
                "consent_mode": ["ad_storage", "ad_user_data", "ad_personalization"],
                "labels": {
                    "en": {
                        "title": "Advertising",
                        "description": "Measures ads and shows ads that match your interests.",
                    },
                    "fr": {
                        "title": "Publicité",
                        "description": (
                            "Mesure les publicités et affiche celles qui vous intéressent."
                        ),
                    },
                },
                "trackers": [
                    {
                        "name": "Ad pixel",
                        "provider": "Demo Ads",
                        "kind": "beacon",
                        "purpose": {
                            "en": "Counts ad conversions",
                            "fr": "Compte les conversions publicitaires",
                        },
                        "duration": dict(MONTHS_13),
                        "cookies": [],
                        "domains": ["ads.demo.invalid"],
                    },
                    {
                        "name": "Device fingerprint",
                        "provider": "Demo Ads",
                        "kind": "fingerprinting",
                        "purpose": {
                            "en": "Recognises your device across sites",
                            "fr": "Reconnaît votre appareil d'un site à l'autre",
                        },
                        "duration": dict(MONTHS_13),
                        "cookies": [],
                        "domains": [],
                    },
                ],
            },
        ],
    }
