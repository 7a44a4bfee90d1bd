"""Contrast of the banner's colours: what the Look page shows live and checks when saving.

Four pairs of text on background must reach WCAG 2.2 AA for normal text (4.5:1), and the
"Accept" button may not stand out from the banner much more than the "Refuse" button (the
publish check's equal-weight rule). The ratios are the same as `compliance.contrast_ratio`
and the page's script computes them the same way (cmp_server/static/admin/console.js).
"""

import re
from dataclasses import dataclass

from cmp_server.services.compliance import (
    MAX_PROMINENCE_RATIO,
    MIN_TEXT_CONTRAST,
    contrast_ratio,
)

HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}\Z")
COLOR_KEYS = (
    "background",
    "text",
    "accept_background",
    "accept_text",
    "reject_background",
    "reject_text",
    "link",
)

# (foreground key, background key, what the visitor reads there)
TEXT_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("text", "background", "Banner text on the banner background"),
    ("link", "background", "Links and the “Customize” button on the banner background"),
    ("accept_text", "accept_background", "“Accept all” text on its button"),
    ("reject_text", "reject_background", "“Refuse all” text on its button"),
)


@dataclass(frozen=True)
class ContrastCheck:
    """One checked pair: its ratio, the minimum, and the form field a failure belongs to."""

    field: str
    label: str
    ratio: float
    minimum: float
    ok: bool
    message: str


def complete(colors: dict[str, str]) -> bool:
    """Whether every colour is there as #rrggbb (else the schema's own messages apply)."""
    return all(HEX_COLOR.match(colors.get(k) or "") for k in COLOR_KEYS)


def check_colors(colors: dict[str, str]) -> list[ContrastCheck]:
    """Every contrast check of a look's colours; none when a colour is missing or malformed."""
    if not complete(colors):
        return []
    checks = []
    for fg, bg, label in TEXT_PAIRS:
        ratio = contrast_ratio(colors[fg], colors[bg])
        ok = ratio >= MIN_TEXT_CONTRAST
        message = (
            f"{label}: {ratio:.2f}:1, at least {MIN_TEXT_CONTRAST}:1 is needed (WCAG AA)."
            if not ok
            else f"{label}: {ratio:.2f}:1."
        )
        checks.append(ContrastCheck(fg, label, ratio, MIN_TEXT_CONTRAST, ok, message))
    accept = contrast_ratio(colors["accept_background"], colors["background"])
    reject = contrast_ratio(colors["reject_background"], colors["background"])
    weight = accept / reject
    ok = weight <= MAX_PROMINENCE_RATIO
    checks.append(
        ContrastCheck(
            "reject_background",
            "“Accept” and “Refuse” equally visible",
            weight,
            MAX_PROMINENCE_RATIO,
            ok,
            "“Accept” and “Refuse” equally visible."
            if ok
            else f"The “Accept” button stands out from the banner {accept:.1f}:1 but "
            f"“Refuse” only {reject:.1f}:1: give both buttons the same weight.",
        )
    )
    return checks


def problems_by_field(colors: dict[str, str]) -> dict[str, list[str]]:
    """The failed checks' messages, keyed by the form field to show each one under."""
    problems: dict[str, list[str]] = {}
    for check in check_colors(colors):
        if not check.ok:
            problems.setdefault(check.field, []).append(check.message)
    return problems


def rules() -> dict:
    """The same rules for the page's live check (console.js): pairs, minimum, weight limit."""
    return {"pairs": TEXT_PAIRS, "min": MIN_TEXT_CONTRAST, "max_weight": MAX_PROMINENCE_RATIO}
