"""The console as staff use it, on a real server: what they read and what they may save.

Readable colours are checked again when the Look page saves; the Texts page speaks plain
words; a draft equal to the published revision offers no Publish button; the audit log is
sentences with the change itself; every date is ISO 8601 in UTC; a new token's form comes
back empty with the expiry shown; the dashboard's axis counts whole decisions and its rate
per tracker kind leaves strictly necessary trackers out; a lost password is replaced from
the command line. The in-page behaviours (live contrast check, the real banner as the Look
page's sample, the copy button, phones) are in test_live_console_browser.py.

What the console refuses or how a page reads (colours, texts, frames, the sign-in form, "on
by default") runs on SQLite only; what reads stored state back (the draft against the
published revision, the audit log, dates, tokens, the dashboard's counts, sessions) on both.
"""

import json
import re
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from cmp_server.services.demo import demo_site_config
from tests.live.console_forms import read_form, with_values
from tests.live.over_http import SetUp, console_token

MARKETER = "marie@example.com"
ISO_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
MONTH_NAMES = re.compile(r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


@pytest.fixture(scope="module")
def cast(live_server):
    """A published demo-like site, an admin (with an API token) and a marketer, made over
    HTTP (`SetUp`) but for the admin."""
    admin = SetUp(live_server, "ada@example.com")
    marketer_password = admin.user(MARKETER, "marketer")
    config = {**demo_site_config(["https://shop.example"]), "name": "Shop"}
    return {
        "site": admin.import_site(config, publish=True),
        "admin": admin.console,
        "marketer": live_server.login(MARKETER, marketer_password),
        "token": admin.token,
        "setup": admin,
    }


def page(session, live_server, path: str):
    answer = session.get(live_server.url + path, timeout=30, allow_redirects=False)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return answer.text


def post_form(session, live_server, path: str, **values):
    """Load the page's form, change some values, post it as a browser would."""
    fields = with_values(read_form(page(session, live_server, path)), **values)
    return session.post(live_server.url + path, data=fields, timeout=30, allow_redirects=False)


def draft(live_server, cast) -> dict:
    """The site's draft, as the admin API exports it."""
    answer = live_server.api("GET", f"/sites/{cast['site']}/config", cast["token"])
    assert answer.status_code == 200, answer.text
    return answer.json()


def draft_colors(live_server, cast) -> dict:
    return (draft(live_server, cast).get("look") or {}).get("colors") or {}


# --- Look: readable colours, checked when saving ---------------------------------------


@pytest.mark.sqlite_only
def test_the_look_page_refuses_unreadable_colours_with_a_message(live_server, cast):
    path = f"/admin/sites/{cast['site']}/look"
    before = draft_colors(live_server, cast)
    answer = post_form(cast["marketer"], live_server, path, text="#bbbbbb", reject_text="#3b5fe0")
    assert answer.status_code == 200
    assert "Banner text on the banner background: 1.92:1, at least 4.5:1 is needed" in answer.text
    assert "“Refuse all” text on its button" in answer.text and 'aria-invalid="true"' in answer.text
    assert draft_colors(live_server, cast) == before  # nothing saved

    unequal = post_form(
        cast["marketer"], live_server, path, reject_background="#ffffff", reject_text="#1d4ed8"
    )
    assert "give both buttons the same weight" in unequal.text
    assert draft_colors(live_server, cast) == before

    malformed = post_form(cast["marketer"], live_server, path, link="blue")
    assert "Write the colour as # and six hex digits." in malformed.text

    saved = post_form(cast["marketer"], live_server, path, text="#222222")
    assert saved.status_code == 302
    assert draft_colors(live_server, cast)["text"] == "#222222"


@pytest.mark.sqlite_only
def test_the_look_sample_frames_the_preview_and_nothing_else_may(live_server, cast):
    look = cast["marketer"].get(f"{live_server.url}/admin/sites/{cast['site']}/look")
    assert "frame-src 'self'" in look.headers["Content-Security-Policy"]
    assert look.headers["X-Frame-Options"] == "DENY"  # the Look page itself is not framable
    sample = cast["marketer"].get(
        f"{live_server.url}/admin/sites/{cast['site']}/preview",
        params={"embed": "1", "c_accept_background": "#123456", "c_text": "red"},
    )
    assert sample.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in sample.headers["Content-Security-Policy"]
    script = re.search(r'src="([^"]*/preview\.js[^"]*)"', sample.text).group(1)
    body = cast["marketer"].get(live_server.url + script.replace("&amp;", "&")).text
    assert '"accept_background":"#123456"' in body  # the unsaved colour reaches the banner
    assert '"text":"red"' not in body  # a malformed one does not
    other = cast["marketer"].get(f"{live_server.url}/admin/sites/{cast['site']}/settings")
    assert "frame-ancestors 'none'" in other.headers["Content-Security-Policy"]


# --- Texts in plain words ----------------------------------------------------------------


@pytest.mark.sqlite_only
def test_the_texts_page_is_grouped_in_plain_words(live_server, cast):
    text = page(cast["marketer"], live_server, f"/admin/sites/{cast['site']}/texts")
    for group in ("First layer: the banner", "Preferences dialog", "The visitor’s rights"):
        assert f"<legend>{group}</legend>" in text
    assert "Message when the browser asks not to be tracked (GPC)" in text
    assert "Acknowledge button (inform-only regions)" in text
    assert "Gpc notice" not in text and "Notice ok" not in text and "Do not sell<" not in text


# --- Publish only what changed -------------------------------------------------------------


def test_an_unchanged_draft_offers_no_publish_button(live_server, cast):
    site = cast["site"]
    path = f"/admin/sites/{site}/texts?lang=en"
    if "Nothing to publish" not in page(
        cast["marketer"], live_server, f"/admin/sites/{site}/publish"
    ):  # another test saved a change
        cast["setup"].api("POST", f"/sites/{site}/publish", json={})
    publish = page(cast["marketer"], live_server, f"/admin/sites/{site}/publish")
    assert 'data-test="nothing-to-publish"' in publish and 'data-test="publish"' not in publish
    overview = page(cast["marketer"], live_server, f"/admin/sites/{site}")
    assert "same as the published revision" in overview and "Review and publish" not in overview
    preview = page(cast["marketer"], live_server, f"/admin/sites/{site}/preview")
    assert "Review and publish" not in preview

    assert post_form(cast["marketer"], live_server, path, title="Cookies?").status_code == 302
    publish = page(cast["marketer"], live_server, f"/admin/sites/{site}/publish")
    button = re.search(r'<button type="submit" class="button" data-test="publish">[^<]*', publish)
    assert button and "disabled" not in button.group(0)
    assert "Review and publish" in page(cast["marketer"], live_server, f"/admin/sites/{site}")


# --- The audit log in words --------------------------------------------------------------


def test_the_audit_log_says_who_changed_what_with_the_change(live_server, cast):
    site = cast["site"]
    path = f"/admin/sites/{site}/categories/marketing"
    old = "Measures ads and shows ads that match your interests."
    assert old in page(cast["marketer"], live_server, path)
    new = old + " We never sell your data."
    assert post_form(cast["marketer"], live_server, path, description_en=new).status_code == 302
    audit = page(cast["admin"], live_server, f"/admin/audit?site={site}")
    first = audit.split('data-test="audit-event"')[1]
    assert f"{MARKETER} changed the description of “Advertising” (en) in the draft" in first
    assert "<mark>We</mark>" in first or "<mark> We" in first  # the added words are marked
    assert "never sell your data" in first and "site.draft.update" not in first
    assert "{&#34;" not in audit and '{"' not in audit  # no raw JSON
    # The export keeps the codes and the details for machines.
    csv = cast["admin"].get(f"{live_server.url}/admin/audit.csv?site={site}").text
    assert "site.draft.update" in csv and "never sell your data" in csv


def test_every_date_is_iso_in_utc(live_server, cast):
    overview = page(cast["admin"], live_server, f"/admin/sites/{cast['site']}")
    assert ISO_MINUTE.search(overview)
    for path in (f"/admin/sites/{cast['site']}", "/admin/audit", "/admin/users", "/admin/tokens"):
        text = page(cast["admin"], live_server, path)
        assert not MONTH_NAMES.search(text), path
        for stamp in re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', text):
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?", stamp[0]), stamp
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})? UTC)?", stamp[1]), stamp


# --- Sign-in page, favicon, tokens ---------------------------------------------------------


@pytest.mark.sqlite_only
def test_sign_in_fields_autocomplete_and_the_console_has_an_icon(live_server):
    login = live_server.get("/admin/login").text
    assert re.search(r'<input[^>]*autocomplete="username"[^>]*name="email"', login)
    assert re.search(r'<input[^>]*autocomplete="current-password"[^>]*name="password"', login)
    icon = re.search(r'<link rel="icon" href="([^"]+)"', login).group(1)
    answer = live_server.get(icon)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("image/svg")


def test_a_new_token_shows_its_expiry_and_leaves_the_form_empty(live_server, cast):
    answer = post_form(
        cast["admin"], live_server, "/admin/tokens", name="ci deploy", expires_in_days="30"
    )
    assert answer.status_code == 200
    token = re.search(r'data-test="new-token">([^<]+)<', answer.text).group(1)
    assert live_server.api("GET", "/sites", token).status_code == 200
    assert re.search(
        r"It expires on <time[^>]*>\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC</time>", answer.text
    )
    form = dict(read_form(answer.text, action=None))
    assert form["name"] == "" and form["expires_in_days"] == "90"  # cleared for the next one
    assert 'data-copy="new-token"' in answer.text


# --- Dashboard -----------------------------------------------------------------------------


def consent(live_server, site_key: str, action: str, choices: dict) -> None:
    revision = live_server.get(f"/api/v1/sites/{site_key}/config").json()["revision"]
    body = {
        "consent_id": str(uuid.uuid4()),
        "device_id": str(uuid.uuid4()),
        "device_secret": secrets.token_urlsafe(24),
        "revision": revision,
        "action": action,
        "choices": choices,
        "language": "en",
        "page_url": "https://shop.example/",
        "gpc": False,
        "client_ts": datetime.now(UTC).isoformat(),
    }
    answer = live_server.post(f"/api/v1/sites/{site_key}/consents", json=body)
    assert answer.status_code == 201, answer.text


def test_the_dashboard_counts_whole_decisions_and_leaves_necessary_trackers_out(live_server, cast):
    config = {**demo_site_config(["https://shop.example"]), "name": "Dash"}
    site = cast["setup"].import_site(config, publish=True)
    password = cast["setup"].user("dash@example.com", "dpo")
    refused = {"necessary": True, "analytics": False, "marketing": False}
    consent(live_server, site, "reject_all", refused)
    consent(live_server, site, "reject_all", refused)
    consent(live_server, site, "accept_all", dict.fromkeys(refused, True))

    stats = live_server.api("GET", f"/sites/{site}/stats", cast["token"]).json()
    kinds = stats["consent_rates"]["tracker_kinds"]
    # The necessary session cookie is allowed in all three decisions: it is not a consent.
    # The demo's analytics cookie makes "cookie" allowed in the one acceptance only.
    assert kinds["cookie"]["allowed"] == 1 and kinds["beacon"]["allowed"] == 1

    board = page(
        live_server.login("dash@example.com", password),
        live_server,
        f"/admin/sites/{site}/dashboard",
    )
    ticks = re.findall(
        r'<text class="axis" x="[\d.]+" y="[\d.]+" text-anchor="end">([^<]*)</text>', board
    )
    assert ticks == ["0", "1", "2", "3"]
    assert "strictly necessary trackers are left out" in board


# --- Configuration: no "on by default" switch ------------------------------------------------


@pytest.mark.sqlite_only
def test_a_purpose_cannot_be_set_on_by_default(live_server, cast):
    config = draft(live_server, cast)
    config["categories"][1]["default_on"] = True
    answer = live_server.api("PUT", f"/sites/{cast['site']}/config", cast["token"], json=config)
    assert answer.status_code == 400
    assert "default_on" in json.dumps(answer.json()["error"]["fields"])


# --- A lost password, from the command line ----------------------------------------------------


def test_set_password_replaces_a_lost_password_ends_sessions_and_is_audited(live_server, cast):
    old = cast["setup"].user("lost@example.com", "dpo")
    session = live_server.login("lost@example.com", old)
    token = console_token(live_server, session)
    new = "a brand new passphrase 42"

    def set_password(email: str, password: str):
        return live_server.accord(
            "user", "set-password", "--email", email, input=password + "\n", check=False
        )

    # Each command starts Python afresh (most of its time): the two refused ones run beside
    # the rest, the unknown account's at once, the too-short password's once the new one is set.
    with ThreadPoolExecutor(2) as pool:
        unknown = pool.submit(set_password, "nobody@example.com", new)
        result = set_password("lost@example.com", new)
        assert result.returncode == 0, result.stderr
        assert "1 session signed out" in result.stdout
        weak = pool.submit(set_password, "lost@example.com", "short")
        # The old session is over, the old password no longer works.
        signed_out = session.get(live_server.url + "/admin/sites", allow_redirects=False)
        assert signed_out.status_code == 302
        with pytest.raises(AssertionError):
            live_server.login("lost@example.com", old)
        assert live_server.api("GET", "/sites", token).status_code == 200  # tokens are kept
        audit = page(cast["admin"], live_server, "/admin/audit?actor=cli")
        unknown, weak = unknown.result(), weak.result()
    assert "The operator set a new password for lost@example.com; 1 session signed out" in audit
    assert unknown.returncode == 1 and "No staff account" in unknown.stderr
    assert weak.returncode == 1
    live_server.login("lost@example.com", new)  # the new one works, kept by the refused attempt
