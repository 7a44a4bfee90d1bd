"""The audit log in words: "marie@shop.example changed the description of “Advertising” (en)".

Each event becomes a sentence, a short line of context (site, channel) and, where the event
holds one, the change itself as before/after pairs, long texts with the changed words
marked. Codes and JSON stay in the CSV export and the API; this is what a person reads.
Events of a kind this module does not know still read as a sentence, with their details
as plain "name: value" lines.
"""

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from cmp_server.extensions import db
from cmp_server.models import AuditEvent, Site
from cmp_server.services.text_labels import label_for

VIA = {"console": "in the console", "api": "through the API", "cli": "on the command line"}

# Every action the console names, for the filter and for events with no words of their own.
ACTION_NAMES = {
    "site.draft.update": "Draft edits",
    "site.publish": "Publications",
    "site.create": "New sites",
    "site.origins.update": "Allowed origins",
    "site.time_zone.update": "Time zones",
    "site.retention.update": "Retention and legal hold",
    "consents.export": "Proof exports",
    "consents.purge": "Retention purges",
    "proofs": "Log verifications and purges",
    "audit.export": "Audit log exports",
    "user": "Staff accounts",
    "token": "API tokens",
    "keys.rotate": "Signing keys",
    "login": "Sign-ins",
    "scan": "Scans",
}

FIELD_NAMES = {
    "name": "the site name",
    "languages": "the languages offered",
    "default_language": "the default language",
    "privacy_policy_url": "the privacy policy link",
    "consent_lifetime_days": "how long a choice is kept (days)",
    "refusal_interval_days": "how long before a refusal is asked again (days)",
    "reload_on_withdraw": "reloading the page after a withdrawal",
    "floating_button": "the floating privacy-settings button",
    "look.position": "the banner position",
    "look.colors.background": "the banner background colour",
    "look.colors.text": "the banner text colour",
    "look.colors.link": "the link colour",
    "look.colors.accept_background": "the “Accept all” background colour",
    "look.colors.accept_text": "the “Accept all” text colour",
    "look.colors.reject_background": "the “Refuse all” background colour",
    "look.colors.reject_text": "the “Refuse all” text colour",
}
CATEGORY_FIELDS = {
    "required": "whether {c} is strictly necessary",
    "honor_gpc": "whether a GPC signal turns {c} off",
    "consent_mode": "the Consent Mode signals of {c}",
}
TRACKER_FIELDS = {
    "provider": "provider",
    "kind": "kind",
    "purpose": "purpose",
    "duration": "duration",
    "cookies": "cookie names",
    "domains": "domains",
    "privacy_policy_url": "privacy policy link",
}
PATH = re.compile(
    r"categories\[(?P<cat>[^\]]+)\](?:\.trackers\[(?P<tracker>[^\]]+)\])?\.?(?P<rest>.*)\Z"
)
WORDS = re.compile(r"\s*\S+|\s+")  # a word with the spaces before it
LONG_TEXT = 60  # longer values get their changed words marked


@dataclass(frozen=True)
class Segment:
    text: str
    changed: bool = False


@dataclass
class ChangeLine:
    """One change: what, and the value before and after (as segments to mark)."""

    what: str
    before: list[Segment] | None
    after: list[Segment] | None


@dataclass
class EventView:
    """One event as the audit page shows it."""

    event: AuditEvent
    sentence: str
    context: str
    changes: list[ChangeLine] = field(default_factory=list)
    more: int = 0
    facts: list[tuple[str, str]] = field(default_factory=list)


def action_choices() -> list[tuple[str, str]]:
    """(prefix, name) pairs for the audit page's filter."""
    return list(ACTION_NAMES.items())


def word_diff(before: str, after: str) -> tuple[list[Segment], list[Segment]]:
    """Both texts cut into segments, the words that differ marked as changed."""
    a, b = WORDS.findall(before), WORDS.findall(after)
    old, new = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i2 > i1:
            old.append(Segment("".join(a[i1:i2]), op != "equal"))
        if j2 > j1:
            new.append(Segment("".join(b[j1:j2]), op != "equal"))
    return old, new


def readable(value: str | None) -> str | None:
    """A JSON list as "a, b" (or "none"); anything else as it is."""
    if value is None or not value.startswith("["):
        return value
    try:
        items = json.loads(value)
    except ValueError:
        return value
    if not isinstance(items, list):
        return value
    return ", ".join(map(str, items)) or "none"


def _values(before: str | None, after: str | None):
    before, after = readable(before), readable(after)
    if before is not None and after is not None and max(len(before), len(after)) > LONG_TEXT:
        return word_diff(before, after)
    return (
        None if before is None else [Segment(before)],
        None if after is None else [Segment(after)],
    )


def _quoted(name: str) -> str:
    return f"“{name}”"


def describe_path(path: str, titles: dict[str, str]) -> str:
    """A configuration path in words: categories[ads].labels.en.description -> the
    description of “Advertising” (en)."""
    if path in FIELD_NAMES:
        return FIELD_NAMES[path]
    parts = path.split(".")
    if parts[0] == "texts" and len(parts) == 3:
        return f"the text {_quoted(label_for(parts[2]))} ({parts[1]})"
    if parts[0] == "regimes" and len(parts) == 2:
        where = "countries with no rule of their own" if parts[1] == "default" else parts[1]
        return f"the regime for {where}"
    match = PATH.match(path)
    if match:
        category = _quoted(titles.get(match["cat"], match["cat"]))
        rest = match["rest"].split(".") if match["rest"] else []
        if match["tracker"]:
            what = TRACKER_FIELDS.get(rest[0], rest[0].replace("_", " ")) if rest else ""
            lang = f" ({rest[1]})" if len(rest) > 1 else ""
            return f"the {what} of the tracker {_quoted(match['tracker'])} in {category}{lang}"
        if rest and rest[0] == "labels" and len(rest) == 3:
            return f"the {rest[2]} of {category} ({rest[1]})"
        if rest and rest[0] in CATEGORY_FIELDS:
            return CATEGORY_FIELDS[rest[0]].format(c=category)
    return "the setting " + path.replace("_", " ")


def _whole(changes: list[dict], prefix: str) -> str | None:
    """'added' or 'removed' when every change under `prefix` is that kind, else None."""
    kinds = {c["kind"] for c in changes if c["path"].startswith(prefix)}
    return kinds.pop() if len(kinds) == 1 and kinds <= {"added", "removed"} else None


def _draft_lines(changes: list[dict], titles: dict[str, str]) -> list[ChangeLine]:
    """Change lines; a purpose or tracker added or removed whole is one line."""
    lines, done = [], set()
    for change in changes:
        match = PATH.match(change["path"])
        if match:
            prefix = f"categories[{match['cat']}]"
            kind = _whole(changes, prefix + ".")
            name = titles.get(match["cat"], match["cat"])
            what = f"the purpose {_quoted(name)}"
            if kind is None and match["tracker"]:
                prefix += f".trackers[{match['tracker']}]"
                kind = _whole(changes, prefix + ".")
                what = f"the tracker {_quoted(match['tracker'])} in {_quoted(name)}"
            if kind:
                if prefix not in done:
                    done.add(prefix)
                    lines.append(ChangeLine(f"{what} ({kind})", None, None))
                continue
        what = describe_path(change["path"], titles)
        old, new = change["before"], change["after"]
        if old is not None and new is not None and old.split() == new.split():
            what += " (only spaces or line breaks)"
        before, after = _values(old, new)
        lines.append(ChangeLine(what, before, after))
    return lines


def _verb(line: ChangeLine) -> str:
    if line.before is None and line.after is None:
        return ""
    if line.before is None:
        return "set "
    if line.after is None:
        return "cleared "
    return "changed "


def _draft_sentence(actor: str, target: str | None, lines: list[ChangeLine]) -> str:
    if len(lines) == 1:
        line = lines[0]
        verb = _verb(line)
        if not verb:  # "the purpose “Ads” (added)" -> "added the purpose “Ads”"
            what, _, kind = line.what.rpartition(" (")
            return f"{actor} {kind.rstrip(')')} {what} in the draft"
        return f"{actor} {verb}{line.what} in the draft"
    if lines:
        return f"{actor} made {len(lines)} changes to the draft"
    part = f" ({target})" if target else ""
    return f"{actor} saved the draft{part} without changing it"


def _pairs(details: dict) -> list[tuple[str, str]]:
    return [
        (k.replace("_", " "), ", ".join(map(str, v)) if isinstance(v, list) else str(v))
        for k, v in sorted(details.items())
        if v not in (None, "", [], {})
    ]


def _onoff(value) -> str:
    return "on" if value else "off"


def _sentence(event: AuditEvent, titles: dict[str, str]) -> EventView:  # noqa: C901 - a table
    actor, target, details = event.actor, event.target, event.details or {}
    view = EventView(event, "", "")
    action = event.action
    if action == "site.draft.update":
        changes = details.get("changes", [])
        view.changes = _draft_lines(changes, titles)
        view.more = details.get("more_changes", 0)
        view.sentence = _draft_sentence(actor, target, view.changes)
        if not changes and target:
            view.sentence = f"{actor} edited the draft: {target}"
    elif action == "site.publish":
        number = details.get("revision", target)
        ask = " and asked every visitor again" if details.get("requires_reconsent") else ""
        view.sentence = f"{actor} published revision {number}{ask}"
        reasons = details.get("reasons")
        if reasons:
            text = reasons if isinstance(reasons, str) else "; ".join(map(str, reasons))
            view.facts = [("why visitors are asked again", text)]
    elif action == "site.create":
        view.sentence = f"{actor} created the site {_quoted(target or event.site_key or '')}"
    elif action == "site.origins.update":
        view.sentence = f"{actor} changed the allowed origins"
        view.changes = [
            ChangeLine(
                "allowed origins",
                [Segment(", ".join(details.get("before", [])) or "none")],
                [Segment(", ".join(details.get("after", [])) or "none")],
            )
        ]
    elif action == "site.time_zone.update":
        view.sentence = f"{actor} changed the time zone of the console’s dates"
        view.changes = [
            ChangeLine(
                "time zone",
                [Segment(str(details.get("before") or "UTC"))],
                [Segment(str(details.get("after") or "UTC"))],
            )
        ]
    elif action == "site.retention.update":
        before, after = details.get("before", {}), details.get("after", {})
        view.sentence = f"{actor} changed how long proofs are kept"
        view.changes = [
            ChangeLine(
                "retention (days)",
                [Segment(str(before.get("retention_days")))],
                [Segment(str(after.get("retention_days")))],
            ),
            ChangeLine(
                "legal hold",
                [Segment(_onoff(before.get("legal_hold")))],
                [Segment(_onoff(after.get("legal_hold")))],
            ),
        ]
        view.changes = [c for c in view.changes if c.before != c.after]
    elif action == "consents.export":
        since, until = details.get("since"), details.get("until")
        period = f" from {since or 'the start'} to {until or 'now'}" if since or until else ""
        view.sentence = f"{actor} exported the proofs as {(target or '').upper()}{period}"
        if details.get("records") is not None:
            view.facts = [("records", str(details["records"]))]
    elif action in ("consents.purge", "proofs.purge"):
        deleted = details.get("deleted", 0)
        view.sentence = f"{actor} purged {deleted} expired record{'s' if deleted != 1 else ''}"
    elif action == "proofs.verify":
        ok = details.get("ok")
        verdict = "it verifies" if ok else "it does NOT verify"
        view.sentence = f"{actor} verified the consent log: {verdict}"
        view.facts = _pairs({k: v for k, v in details.items() if k != "ok"})
    elif action == "audit.export":
        view.sentence = f"{actor} exported the audit log"
    elif action == "user.create":
        role = details.get("role", "")
        view.sentence = f"{actor} created the account {target} ({role})"
    elif action == "user.update":
        view.sentence = f"{actor} changed the account {target}"
        for key, value in details.items():
            if isinstance(value, list) and len(value) == 2:
                old, new = (", ".join(v) if isinstance(v, list) else str(v) for v in value)
                view.changes.append(
                    ChangeLine(key.replace("_", " "), [Segment(old)], [Segment(new)])
                )
            else:
                view.facts.append((key.replace("_", " "), str(value)))
    elif action == "user.password" and details.get("set_by") == "operator":
        ended = details.get("sessions_ended", 0)
        view.sentence = (
            f"The operator set a new password for {target}; {ended} "
            f"session{'s' if ended != 1 else ''} signed out"
        )
    elif action == "user.password":
        view.sentence = f"{actor} changed the password of {target}"
    elif action == "token.create":
        view.sentence = f"{actor} created the API token {target}…"
        view.facts = _pairs(details)
    elif action == "token.revoke":
        owner = details.get("owner")
        view.sentence = f"{actor} revoked the API token {target}…" + (
            f" of {owner}" if owner and owner != actor else ""
        )
    elif action == "token.use":
        view.sentence = (
            f"{actor} used the API token {target}…: {details.get('method', '')} "
            f"{details.get('path', '')} answered {details.get('status', '')}"
        )
    elif action == "keys.rotate":
        view.sentence = f"{actor} made a new signing key ({target})"
    elif action == "login.success":
        view.sentence = f"{actor} signed in"
    elif action == "login.failed":
        view.sentence = f"A sign-in as {target} failed"
    elif action == "login.throttled":
        view.sentence = f"Sign-ins as {target} were slowed down after repeated failures"
    elif action == "logout":
        view.sentence = f"{actor} signed out"
    else:
        name = action.replace(".", " ").replace("_", " ")
        view.sentence = f"{actor}: {name}" + (f" ({target})" if target else "")
        view.facts = _pairs(details)
    return view


def _category_titles(site_keys: Iterable[str]) -> dict[str, dict[str, str]]:
    """For each site, its purposes' titles in its default language (keys when untitled)."""
    keys = {k for k in site_keys if k}
    if not keys:
        return {}
    titles: dict[str, dict[str, str]] = {}
    for site in db.session.scalars(select(Site).where(Site.site_key.in_(keys))):
        names = {}
        for category in site.categories:
            label: dict = category.labels.get(site.default_language) or next(
                iter(category.labels.values()), {}
            )
            names[category.key] = label.get("title") or category.key
        titles[site.site_key] = names
    return titles


def describe_events(events: list[AuditEvent]) -> list[EventView]:
    """The events in words, with the purposes named by their current titles."""
    titles = _category_titles(e.site_key for e in events if e.site_key)
    views = []
    for event in events:
        view = _sentence(event, titles.get(event.site_key or "", {}))
        where = f"site {event.site_key}" if event.site_key else "the installation"
        view.context = f"{where}, {VIA.get(event.via, event.via)}"
        if event.ip_truncated:
            view.context += f", from {event.ip_truncated}"
        views.append(view)
    return views
