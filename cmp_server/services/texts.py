"""Default banner texts per language.

Publishing merges these under the staff's own texts, so a revision holds every string the
visitor is shown (the proof names the exact wording) and the snippet carries no copy of its own.
"""

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
)

DEFAULT_TEXTS = {
    "en": {
        "title": "We value your privacy",
        "description": (
            "We and our partners use cookies and similar technologies to measure the "
            "audience and show relevant ads. You can accept, refuse or choose by purpose, "
            "and change your mind at any time."
        ),
        "accept_all": "Accept all",
        "reject_all": "Refuse all",
        "customize": "Customize",
        "save": "Save choices",
        "close": "Close (refuse all)",
        "privacy_policy": "Privacy policy",
        "preferences_title": "Your privacy choices",
        "preferences_description": (
            "Choose which purposes you allow. Strictly necessary ones are always on."
        ),
        "always_on": "Always on",
        "trackers": "Trackers",
        "kind_cookie": "Cookies",
        "kind_beacon": "Web beacons",
        "kind_fingerprinting": "Device fingerprinting",
        "kind_storage": "Browser storage",
        "provider": "Provider",
        "purpose": "Purpose",
        "duration": "Duration",
        "gpc_notice": (
            "Your browser sends a Global Privacy Control signal: we have turned off the "
            "purposes it covers."
        ),
        "do_not_sell": "Do not sell or share my personal information",
        "notice_ok": "OK",
        "consent_id": "Your consent ID",
        "download_history": "Download my consent history",
        "withdraw": "Withdraw consent",
        "erase": "Erase my data",
        "erased": "Your data has been erased.",
        "blocked_content": "This content is blocked until you allow {category}.",
        "allow_content": "Allow and show",
    },
    "fr": {
        "title": "Nous respectons votre vie privée",
        "description": (
            "Nos partenaires et nous utilisons des cookies et technologies similaires pour "
            "mesurer l'audience et afficher des publicités pertinentes. Vous pouvez accepter, "
            "refuser ou choisir par finalité, et changer d'avis à tout moment."
        ),
        "accept_all": "Tout accepter",
        "reject_all": "Tout refuser",
        "customize": "Personnaliser",
        "save": "Enregistrer mes choix",
        "close": "Fermer (tout refuser)",
        "privacy_policy": "Politique de confidentialité",
        "preferences_title": "Vos choix de confidentialité",
        "preferences_description": (
            "Choisissez les finalités que vous autorisez. Les traceurs strictement "
            "nécessaires sont toujours actifs."
        ),
        "always_on": "Toujours actif",
        "trackers": "Traceurs",
        "kind_cookie": "Cookies",
        "kind_beacon": "Pixels espions",
        "kind_fingerprinting": "Empreinte de l'appareil",
        "kind_storage": "Stockage du navigateur",
        "provider": "Fournisseur",
        "purpose": "Finalité",
        "duration": "Durée",
        "gpc_notice": (
            "Votre navigateur envoie un signal Global Privacy Control : nous avons désactivé "
            "les finalités qu'il couvre."
        ),
        "do_not_sell": "Ne pas vendre ni partager mes informations personnelles",
        "notice_ok": "OK",
        "consent_id": "Votre identifiant de consentement",
        "download_history": "Télécharger l'historique de mes choix",
        "withdraw": "Retirer mon consentement",
        "erase": "Effacer mes données",
        "erased": "Vos données ont été effacées.",
        "blocked_content": "Ce contenu est bloqué tant que vous n'autorisez pas {category}.",
        "allow_content": "Autoriser et afficher",
    },
}


def texts_for(language: str, custom: dict | None) -> dict:
    """Every text key for a language: the staff's text where given, else the default.

    A language with no defaults of its own falls back to English defaults for missing keys.
    """
    defaults = DEFAULT_TEXTS.get(language, DEFAULT_TEXTS["en"])
    merged = dict(defaults)
    merged.update({k: v for k, v in (custom or {}).items() if v})
    return merged
