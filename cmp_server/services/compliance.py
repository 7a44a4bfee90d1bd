"""Compliance checks run before a revision is published (console and admin API alike).

`check_config(snapshot)` takes what the visitor would be shown (`sites.revision_snapshot`)
and returns the problems that make publishing refuse, each with the rule it breaks and its
source. The rules follow the CNIL's cookie recommendation and guidelines (deliberations
2020-092 and 2020-091 of 17 September 2020) and the EDPB Cookie Banner Taskforce report
(adopted 17 January 2023).
"""

from dataclasses import asdict, dataclass

from cmp_server.services.errors import InvalidInput
from cmp_server.vocabulary import EEA_COUNTRIES

CNIL_REC = (
    "CNIL, délibération n° 2020-092 du 17 septembre 2020 (recommandation « cookies et autres "
    "traceurs »)"
)
CNIL_GUIDELINES = (
    "CNIL, délibération n° 2020-091 du 17 septembre 2020 (lignes directrices « cookies et "
    "autres traceurs »)"
)
EDPB = "EDPB, Report of the work undertaken by the Cookie Banner Taskforce (17 January 2023)"

MAX_LIFETIME_DAYS = 395  # 13 months
MIN_TEXT_CONTRAST = 4.5  # WCAG 2.x, success criterion 1.4.3 (normal text)
MAX_PROMINENCE_RATIO = 1.5  # accept may stand out from the banner at most this much more
# Regions where trackers need prior consent (GDPR + ePrivacy): EEA, and the UK.
CONSENT_REGIONS = EEA_COUNTRIES | {"EEA", "GB"}


@dataclass(frozen=True)
class Problem:
    """One reason not to publish: a stable code, what is wrong, and the rule's source."""

    code: str
    message: str
    source: str

    def as_dict(self) -> dict:
        return asdict(self)


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of a #rrggbb colour."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours, from 1 (same) to 21 (black on white)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _refusal_on_first_layer(config: dict) -> list[Problem]:
    missing = [
        lang
        for lang, texts in config.get("texts", {}).items()
        if not (texts.get("reject_all") or "").strip()
    ]
    if not missing:
        return []
    return [
        Problem(
            "no_refusal_first_layer",
            f"The “refuse all” button has no text in {', '.join(sorted(missing))}: refusing "
            "must be offered on the first layer, as easily as accepting.",
            f"{EDPB}, type A practice “No reject button on the first layer”; {CNIL_REC}, "
            "refusing must be as simple as accepting",
        )
    ]


def _nothing_on_by_default(config: dict) -> list[Problem]:
    problems = []
    for category in config.get("categories", []):
        if not category.get("required") and (
            category.get("default") is True or category.get("default_on") is True
        ):
            problems.append(
                Problem(
                    "category_on_by_default",
                    f"The purpose {category['key']!r} is on by default: non-essential purposes "
                    "must start off (no pre-ticked boxes).",
                    f"{EDPB}, type B practice “Pre-ticked boxes”; {CNIL_GUIDELINES}",
                )
            )
    for region, regime in sorted(config.get("regimes", {}).items()):
        if regime != "opt_in" and (region in CONSENT_REGIONS or region == "default"):
            where = "visitors with no specific rule" if region == "default" else region
            problems.append(
                Problem(
                    "opt_out_where_consent_required",
                    f"The regime {regime!r} applies to {where}: trackers would run before "
                    "consent (non-essential purposes on by default) where GDPR and ePrivacy "
                    "require prior consent. Use opt_in there.",
                    f"{CNIL_GUIDELINES}, consent before any non-essential tracker; {EDPB}, "
                    "type B practice “Pre-ticked boxes”",
                )
            )
    return problems


def _lifetimes(config: dict) -> list[Problem]:
    problems = []
    consent_days = config.get("consent_lifetime_days") or 0
    if consent_days > MAX_LIFETIME_DAYS:
        problems.append(
            Problem(
                "consent_lifetime_too_long",
                f"Consent is kept {consent_days} days, over 13 months ({MAX_LIFETIME_DAYS} "
                "days): ask again sooner (6 months is the CNIL's recommended practice).",
                f"{CNIL_REC}, retention of the choice; {CNIL_GUIDELINES}, trackers' "
                "lifetime limited to 13 months",
            )
        )
    refusal_days = config.get("refusal_lifetime_days", consent_days)
    if refusal_days < consent_days:
        problems.append(
            Problem(
                "refusal_remembered_less",
                f"A refusal is remembered {refusal_days} days but a consent {consent_days}: "
                "visitors who refused would be asked again sooner than those who accepted.",
                f"{CNIL_REC}, keep the refusal as long as the consent so that refusing is not "
                "made harder than accepting",
            )
        )
    return problems


def _required_trackers(config: dict) -> list[Problem]:
    problems = []
    for category in config.get("categories", []):
        if not category.get("required"):
            continue
        for tracker in category.get("trackers", []):
            if tracker.get("kind") in ("beacon", "fingerprinting"):
                problems.append(
                    Problem(
                        "tracker_not_strictly_necessary",
                        f"The {tracker['kind']} {tracker['name']!r} is in the strictly "
                        f"necessary purpose {category['key']!r}: a {tracker['kind']} needs "
                        "consent; move it to a purpose the visitor can refuse.",
                        f"{EDPB}, type G practice “Inaccurately classified essential "
                        f"cookies”; {CNIL_GUIDELINES}, exemptions for strictly necessary "
                        "trackers",
                    )
                )
    return problems


def _privacy_policy(config: dict) -> list[Problem]:
    if (config.get("privacy_policy_url") or "").strip():
        return []
    return [
        Problem(
            "no_privacy_policy",
            "No privacy policy link: the banner must let visitors read who uses trackers and why.",
            f"{CNIL_REC}, information on the controllers and the purposes available from "
            "the first layer",
        )
    ]


def _button_parity(config: dict) -> list[Problem]:
    look = config.get("look") or {}
    colors = look.get("colors") or {}
    needed = ("background", "accept_background", "accept_text", "reject_background", "reject_text")
    if not all(colors.get(k) for k in needed):
        return []
    problems = []
    for button in ("accept", "reject"):
        ratio = contrast_ratio(colors[f"{button}_text"], colors[f"{button}_background"])
        if ratio < MIN_TEXT_CONTRAST:
            label = "accept" if button == "accept" else "refuse"
            problems.append(
                Problem(
                    "button_text_contrast",
                    f"The {label} button's text contrast is {ratio:.1f}:1, under "
                    f"{MIN_TEXT_CONTRAST}:1: it is hard to read.",
                    "WCAG 2.2, success criterion 1.4.3 Contrast (Minimum); "
                    f"{EDPB}, type E practice “Deceptive button contrast”",
                )
            )
    accept = contrast_ratio(colors["accept_background"], colors["background"])
    reject = contrast_ratio(colors["reject_background"], colors["background"])
    if accept / reject > MAX_PROMINENCE_RATIO:
        problems.append(
            Problem(
                "unequal_button_contrast",
                f"The accept button stands out from the banner much more than the refuse "
                f"button ({accept:.1f}:1 against {reject:.1f}:1): give both the same weight, "
                "ideally the same colours.",
                f"{EDPB}, type D and E practices “Deceptive button colours” and “Deceptive "
                f"button contrast”; {CNIL_REC}, refusing as visible as accepting",
            )
        )
    sizes = look.get("button_sizes") or {}
    if sizes.get("accept") and sizes.get("reject") and sizes["accept"] != sizes["reject"]:
        problems.append(
            Problem(
                "unequal_button_size",
                "The accept and refuse buttons have different sizes: give them the same.",
                f"{CNIL_REC}, refusing as visible as accepting; {EDPB}, type D practice",
            )
        )
    return problems


CHECKS = (
    _refusal_on_first_layer,
    _nothing_on_by_default,
    _lifetimes,
    _required_trackers,
    _privacy_policy,
    _button_parity,
)


def check_config(config: dict) -> list[Problem]:
    """Every problem of a revision snapshot; an empty list means it may be published."""
    return [problem for check in CHECKS for problem in check(config)]


def ensure_publishable(config: dict) -> None:
    """Raise InvalidInput listing the problems, if any (the API's 400 shows them in fields)."""
    problems = check_config(config)
    if problems:
        raise InvalidInput(
            "This configuration cannot be published: " + " ".join(p.message for p in problems),
            fields={"compliance": [p.as_dict() for p in problems]},
            code="not_compliant",
        )
