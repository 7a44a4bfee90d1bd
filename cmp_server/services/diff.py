"""A readable diff of two revision snapshots, for the publish preview (console, API, CLI).

Snapshots are flattened to `path -> value`, with categories named by key and trackers by
name (not by position), so reordering shows as nothing and a renamed tracker as a removal
and an addition.
"""

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Change:
    """One difference between two snapshots: where, what it was and what it becomes."""

    path: str
    kind: str  # added, removed, changed
    before: str | None
    after: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def _show(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def flatten(snapshot: dict | None) -> dict[str, str]:
    """A snapshot as {readable path: value}, so two snapshots compare key by key."""
    if not snapshot:
        return {}
    flat = {}

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else key)
        else:
            flat[path] = _show(value)

    for key, value in snapshot.items():
        if key == "categories":
            for category in value:
                base = f"categories[{category['key']}]"
                for ckey, cvalue in category.items():
                    if ckey == "trackers":
                        for tracker in cvalue:
                            tbase = f"{base}.trackers[{tracker['name']}]"
                            for tkey, tvalue in tracker.items():
                                if tkey != "name":
                                    walk(tvalue, f"{tbase}.{tkey}")
                    elif ckey != "key":
                        walk(cvalue, f"{base}.{ckey}")
        else:
            walk(value, key)
    return flat


def diff_snapshots(old: dict | None, new: dict) -> list[Change]:
    """Every path added, removed or changed from `old` to `new`, in a stable order."""
    before, after = flatten(old), flatten(new)
    changes = []
    for path in sorted(before.keys() | after.keys()):
        if path not in before:
            changes.append(Change(path, "added", None, after[path]))
        elif path not in after:
            changes.append(Change(path, "removed", before[path], None))
        elif before[path] != after[path]:
            changes.append(Change(path, "changed", before[path], after[path]))
    return changes


AUDIT_MAX_CHANGES = 40
AUDIT_MAX_CHARS = 500


def audit_changes(changes: list[Change]) -> dict:
    """A draft edit's changes for its audit event: at most 40, each value cut at 500
    characters, and how many were left out (an audit row stays small)."""

    def cut(value: str | None) -> str | None:
        if value is None or len(value) <= AUDIT_MAX_CHARS:
            return value
        return value[: AUDIT_MAX_CHARS - 1] + "…"

    kept = [
        {"path": c.path, "kind": c.kind, "before": cut(c.before), "after": cut(c.after)}
        for c in changes[:AUDIT_MAX_CHANGES]
    ]
    details: dict = {"changes": kept}
    if len(changes) > AUDIT_MAX_CHANGES:
        details["more_changes"] = len(changes) - AUDIT_MAX_CHANGES
    return details
