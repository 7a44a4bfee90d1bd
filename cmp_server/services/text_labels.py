"""Plain-words names for the banner's text keys, grouped the way the visitor meets them.

The Texts page of the console shows these instead of the keys ("gpc_notice" becomes
"Message when the browser asks not to be tracked (GPC)"). A key added to
`services.texts.TEXT_KEYS` without an entry here still shows, under "Other texts", with a
name made from the key, so the page never hides a text.
"""

from dataclasses import dataclass

GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "First layer: the banner",
        "What every visitor sees first.",
        (
            "title",
            "description",
            "accept_all",
            "reject_all",
            "customize",
            "privacy_policy",
            "close",
            "preferences_failed",
            "retry",
        ),
    ),
    (
        "Preferences dialog",
        "Where the visitor chooses purpose by purpose and sees the trackers.",
        (
            "preferences_title",
            "preferences_description",
            "save",
            "always_on",
            "trackers",
            "provider",
            "purpose",
            "duration",
            "kind_cookie",
            "kind_beacon",
            "kind_fingerprinting",
            "kind_storage",
        ),
    ),
    (
        "Other regions and privacy signals",
        "Shown instead of, or next to, the buttons above where the rules differ.",
        ("do_not_sell", "notice_ok", "gpc_notice"),
    ),
    (
        "The visitor’s rights",
        "In the preferences dialog once a choice is made: history, withdrawal, erasure.",
        (
            "consent_id",
            "download_history",
            "withdraw",
            "erase",
            "erase_confirm",
            "erased",
            "server_error",
            "erase_failed",
            "download_failed",
            "settings",
        ),
    ),
    (
        "Blocked embeds",
        "The placeholder shown in place of a video or map until its purpose is allowed.",
        ("blocked_content", "allow_content"),
    ),
)

LABELS: dict[str, tuple[str, str]] = {
    "title": ("Heading", ""),
    "description": ("Message", "Say who uses trackers and why, in a few lines."),
    "accept_all": ("“Accept all” button", ""),
    "reject_all": ("“Refuse all” button", "Required: refusing must be as easy as accepting."),
    "customize": ("Button that opens the preferences", ""),
    "privacy_policy": ("Privacy policy link", "Links to the URL set in the site’s settings."),
    "close": ("Close button (✕)", "Read aloud by screen readers; closing is not refusing."),
    "preferences_title": ("Heading", ""),
    "preferences_description": ("Introduction", ""),
    "save": ("“Save choices” button", ""),
    "always_on": ("Note on strictly necessary purposes", "They cannot be switched off."),
    "trackers": ("Title of each purpose’s tracker list", "The number of trackers follows it."),
    "provider": ("Tracker detail: provider", ""),
    "purpose": ("Tracker detail: purpose", ""),
    "duration": ("Tracker detail: duration", ""),
    "kind_cookie": ("Name for cookies", ""),
    "kind_beacon": ("Name for web beacons (pixels)", ""),
    "kind_fingerprinting": ("Name for device fingerprinting", ""),
    "kind_storage": ("Name for browser storage", ""),
    "do_not_sell": (
        "Opt-out button (US states)",
        "Replaces “Refuse all” where the regime is opt_out.",
    ),
    "notice_ok": (
        "Acknowledge button (inform-only regions)",
        "Replaces “Accept all” where the regime is notice.",
    ),
    "gpc_notice": (
        "Message when the browser asks not to be tracked (GPC)",
        "Shown when a Global Privacy Control signal turned purposes off.",
    ),
    "consent_id": ("Label before the visitor’s consent ID", ""),
    "download_history": ("“Download my history” button", ""),
    "withdraw": ("“Withdraw consent” button", ""),
    "erase": ("“Erase my data” button", ""),
    "erase_confirm": ("Question before erasing", ""),
    "erased": ("Confirmation after erasing", ""),
    "server_error": ("Message when the server cannot be reached", ""),
    "erase_failed": ("Message when erasing fails", "The server could not be reached."),
    "download_failed": (
        "Message when the history cannot be downloaded",
        "The file then holds only what the device kept.",
    ),
    "preferences_failed": (
        "Message when the preferences cannot be loaded",
        "Shown in the banner when “Customize” cannot fetch the dialog (offline, server error).",
    ),
    "retry": ("“Try again” button after that message", ""),
    "settings": ("Floating privacy-settings button", "Shown when the site option is on."),
    "blocked_content": (
        "Placeholder message",
        "{category} is replaced by the purpose’s name.",
    ),
    "allow_content": ("Placeholder button that allows the embed", ""),
}


@dataclass(frozen=True)
class TextGroup:
    """A titled group of text keys, in the order the visitor meets them."""

    title: str
    intro: str
    keys: tuple[str, ...]


def label_for(key: str) -> str:
    """The plain-words name of a text key."""
    return LABELS.get(key, (key.replace("_", " ").capitalize(), ""))[0]


def hint_for(key: str) -> str:
    return LABELS.get(key, ("", ""))[1]


def grouped(keys: tuple[str, ...] | list[str]) -> list[TextGroup]:
    """The given keys in their groups (empty groups left out); unknown keys under "Other"."""
    present = list(keys)
    groups = []
    placed: set[str] = set()
    for title, intro, group_keys in GROUPS:
        mine = tuple(k for k in group_keys if k in present)
        placed.update(mine)
        if mine:
            groups.append(TextGroup(title, intro, mine))
    rest = tuple(k for k in present if k not in placed)
    if rest:
        groups.append(TextGroup("Other texts", "", rest))
    return groups
