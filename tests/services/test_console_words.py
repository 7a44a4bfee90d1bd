"""What the console shows in words and numbers: text labels, audit sentences, changed words,
dates, chart ticks and contrast checks (plain functions, no database)."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from cmp_server.services import audit_words, contrast, text_labels, timefmt
from cmp_server.services.charts import axis_ticks
from cmp_server.services.texts import TEXT_KEYS


def test_every_banner_text_has_a_plain_words_label():
    """A text key added without a label would show under "Other texts" with its code."""
    assert [k for k in TEXT_KEYS if k not in text_labels.LABELS] == []
    groups = text_labels.grouped(TEXT_KEYS)
    assert [g.title for g in groups][0] == "First layer: the banner"
    assert sorted(k for g in groups for k in g.keys) == sorted(TEXT_KEYS)
    assert text_labels.grouped(["title", "new_key"])[-1].keys == ("new_key",)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("categories[ads].labels.en.description", "the description of “Advertising” (en)"),
        (
            "categories[ads].trackers[Pixel].duration.fr",
            "the duration of the tracker “Pixel” in “Advertising” (fr)",
        ),
        ("categories[ads].honor_gpc", "whether a GPC signal turns “Advertising” off"),
        (
            "texts.fr.gpc_notice",
            "the text “Message when the browser asks not to be tracked (GPC)” (fr)",
        ),
        ("look.colors.reject_text", "the “Refuse all” text colour"),
        ("regimes.default", "the regime for countries with no rule of their own"),
        ("categories[gone].required", "whether “gone” is strictly necessary"),
    ],
)
def test_configuration_paths_read_as_words(path, words):
    assert audit_words.describe_path(path, {"ads": "Advertising"}) == words


def event(action, details=None, target=None, actor="marie@example.com"):
    return SimpleNamespace(
        action=action,
        details=details or {},
        target=target,
        actor=actor,
        site_key="s",
        via="console",
        ip_truncated=None,
        at=datetime(2026, 12, 5, tzinfo=UTC),
    )


def test_a_draft_edit_reads_as_a_sentence_with_the_change():
    change = {
        "path": "categories[ads].labels.en.description",
        "kind": "changed",
        "before": "Shows ads that match your interests on this site and on partner sites.",
        "after": "Shows ads that match your interests on this site only, never elsewhere.",
    }
    view = audit_words._sentence(event("site.draft.update", {"changes": [change]}), {"ads": "Ads"})
    assert view.sentence == "marie@example.com changed the description of “Ads” (en) in the draft"
    (line,) = view.changes
    assert [s.text for s in line.after if s.changed] == [" only, never elsewhere."]
    assert "".join(s.text for s in line.before) == change["before"]


def test_a_purpose_added_whole_is_one_line():
    changes = [
        {
            "path": "categories[video].labels.en.title",
            "kind": "added",
            "before": None,
            "after": "Video",
        },
        {"path": "categories[video].required", "kind": "added", "before": None, "after": "false"},
    ]
    view = audit_words._sentence(event("site.draft.update", {"changes": changes}), {})
    assert view.sentence == "marie@example.com added the purpose “video” in the draft"


def test_unknown_events_still_read_without_json():
    view = audit_words._sentence(event("scan.start", {"url": "https://shop.example"}, "x"), {})
    assert view.sentence == "marie@example.com: scan start (x)"
    assert view.facts == [("url", "https://shop.example")]


def test_dates_are_iso_and_in_utc():
    moment = datetime(2026, 12, 5, 15, 3, 7, tzinfo=UTC)
    assert timefmt.human_time(moment) == "2026-12-05 15:03 UTC"
    assert (
        timefmt.human_time("2026-12-05T16:03:07+01:00", seconds=True) == "2026-12-05 15:03:07 UTC"
    )
    assert timefmt.machine_time(moment.replace(tzinfo=None)) == "2026-12-05T15:03:07Z"
    assert timefmt.human_day(date(2026, 1, 2)) == "2026-01-02"
    assert timefmt.human_time(None) == timefmt.human_time("not a date") == "—"


@pytest.mark.parametrize(
    ("most", "ticks"),
    [
        (0, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (13, [0, 5, 10, 15]),
        (480, [0, 200, 400, 600]),
    ],
)
def test_chart_ticks_are_whole_numbers(most, ticks):
    assert axis_ticks(most) == ticks


def test_contrast_checks_name_the_field_to_fix():
    colors = {
        "background": "#ffffff",
        "text": "#bbbbbb",
        "link": "#1d4ed8",
        "accept_background": "#1d4ed8",
        "accept_text": "#ffffff",
        "reject_background": "#1d4ed8",
        "reject_text": "#ffffff",
    }
    assert list(contrast.problems_by_field(colors)) == ["text"]
    assert contrast.problems_by_field({**colors, "text": "#222222"}) == {}
    assert contrast.check_colors({**colors, "text": "grey"}) == []  # the schema's message instead
