"""Server-side SVG charts of consent figures: no JavaScript, no CDN, allowed by a strict CSP.

Plain functions from figures (services/stats.py) to SVG, without Flask: the console's
dashboard shows them, and anything else that reports consent rates can.

Colours come from CSS classes (`a-<action>`) in the console stylesheet; every chart has a
title and an aria-label, and the page shows the same figures in tables.
"""

from datetime import date

from markupsafe import Markup, escape

from cmp_server.vocabulary import ACTIONS

ACTION_LABELS = {
    "accept_all": "Accept all",
    "reject_all": "Refuse all",
    "custom": "Custom choice",
    "withdraw": "Withdraw",
    "gpc": "GPC signal",
    "close": "Closed without choosing",
}


def nice_ceiling(value: int) -> int:
    """A round axis maximum at or above `value` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def axis_ticks(value: int, most: int = 5) -> list[int]:
    """Whole-number ticks from 0 to a round maximum at or above `value`, evenly spaced by
    1, 2 or 5 × 10^n, at most `most` of them: 3 decisions give 0 1 2 3, not 0 0.75 1.5."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            size = step * factor
            top = -(-max(value, 1) // size) * size
            if top // size + 1 <= most:
                return list(range(0, top + 1, size))
        step *= 10


def _compact(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    if n >= 1_000:
        return f"{n / 1_000:g}k"
    return str(n)


def daily_chart(days: list[tuple[date, dict]], width=760, height=240) -> Markup:
    """Stacked bars of decisions per day, by action."""
    left, right, top, bottom = 44, 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(actions.values()) for _, actions in days]
    ticks = axis_ticks(max(totals, default=0))
    ymax = ticks[-1]
    n = max(len(days), 1)
    slot = plot_w / n
    bar = max(slot * 0.72, 1)
    title = f"Decisions per day, {days[0][0]:%Y-%m-%d} to {days[-1][0]:%Y-%m-%d}" if days else ""
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for value in ticks:
        y = top + plot_h - plot_h * value / ymax
        out.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_compact(value)}</text>"
        )
    label_every = max(1, round(n / 10))
    for i, (day, actions) in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        tip = ", ".join(f"{ACTION_LABELS[a]} {actions.get(a, 0)}" for a in ACTIONS)
        out.append(f"<g><title>{day.isoformat()}: {escape(tip)}</title>")
        for action in ACTIONS:
            count = actions.get(action, 0)
            if not count:
                continue
            h = plot_h * count / ymax
            y -= h
            out.append(
                f'<rect class="a-{action}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}"/>'
            )
        out.append("</g>")
        if i % label_every == 0:
            out.append(
                f'<text class="axis" x="{x + bar / 2:.1f}" y="{height - 8}" '
                f'text-anchor="middle">{day:%m-%d}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text in it went through escape()


def share_bar(parts: dict[str, int], width=760, height=28) -> Markup:
    """One horizontal bar split by action: the mix of decisions at a glance."""
    total = sum(parts.values())
    out = [
        f'<svg class="chart share" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Share of decisions by action" preserveAspectRatio="none" '
        f'xmlns="http://www.w3.org/2000/svg"><title>Share of decisions by action</title>',
        f'<rect class="track" x="0" y="0" width="{width}" height="{height}" rx="6"/>',
    ]
    x = 0.0
    for action in ACTIONS:
        count = parts.get(action, 0)
        if not total or not count:
            continue
        w = width * count / total
        out.append(
            f'<rect class="a-{action}" x="{x:.2f}" y="0" width="{w:.2f}" height="{height}">'
            f"<title>{ACTION_LABELS[action]}: {count} ({count / total:.0%})</title></rect>"
        )
        x += w
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text in it went through escape()


def meter(ratio: float, label: str = "") -> Markup:
    """A small bar for a rate (0..1) in a table cell."""
    pct = max(0.0, min(1.0, ratio)) * 100
    return Markup(  # noqa: S704 - numbers only; the label goes through escape()
        '<svg class="meter" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" '
        'xmlns="http://www.w3.org/2000/svg">'
        f'<rect class="meter-bg" width="100" height="8" rx="4"/>'
        f'<rect class="meter-fill" width="{pct:.2f}" height="8" rx="4"/></svg>'
    ) + (
        Markup('<span class="visually-hidden">') + escape(label) + Markup("</span>")
        if label
        else Markup("")
    )
