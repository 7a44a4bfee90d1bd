"""The snippet's split (issue #17): GET /s/KEY.core.js (no banner UI) and GET /s/ui.<hash>.js
(the UI the core fetches), next to the full GET /s/KEY.js."""

import gzip
import hashlib
import re

from cmp_server.services import snippet
from cmp_server.services.snippet import BUILDS, CONFIG_PLACEHOLDER, install_html, ui_chunk


def ui_name_in(core: str) -> str:
    """The UI chunk's file name the core build fetches."""
    return re.search(r"ui\.[0-9a-f]{16}\.js", core).group(0)


def test_core_embeds_the_same_revision_as_the_full_snippet(client, make_site):
    site = make_site()
    full = client.get(f"/s/{site.site_key}.js")
    core = client.get(f"/s/{site.site_key}.core.js")
    assert core.status_code == 200 and core.mimetype == "text/javascript"
    assert CONFIG_PLACEHOLDER not in core.text
    config = '{"revision":1,'
    assert config in core.text and config in full.text
    # The core is smaller: the banner's layers and styles are not in it.
    assert len(core.data) < len(full.data) - 2000
    assert "acc-bar" in full.text and "acc-bar" not in core.text
    assert core.headers["ETag"] != full.headers["ETag"]


def test_the_preferences_dialog_is_in_the_ui_chunk_not_in_the_full_snippet(client, make_site):
    """The full snippet carries the first layer; the preferences dialog (its code, styles,
    the visitor's rights) comes with the UI chunk, the same one the core fetches."""
    site = make_site()
    full = client.get(f"/s/{site.site_key}.js?lang=fr").text  # what the inline stub asks
    core = client.get(f"/s/{site.site_key}.core.js").text
    name, chunk = ui_chunk()
    assert ui_name_in(full) == ui_name_in(core) == name
    for dialog_only in ("preferences_title", 'role:"switch"', "acc-cat", "consent-history.json"):
        assert dialog_only not in full and dialog_only not in core
    for text in ("preferences_title", "acc-bd", "acc-bar", "consent-history.json", "switch"):
        assert text in chunk.body.decode()


def test_core_has_its_own_etag_revalidation_and_gzip(client, make_site):
    site = make_site()
    first = client.get(f"/s/{site.site_key}.core.js", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    plain = client.get(f"/s/{site.site_key}.core.js")
    assert gzip.decompress(first.data) == plain.data
    again = client.get(
        f"/s/{site.site_key}.core.js", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    # The full snippet's ETag does not revalidate the core.
    full_etag = client.get(f"/s/{site.site_key}.js").headers["ETag"]
    other = client.get(f"/s/{site.site_key}.core.js", headers={"If-None-Match": full_etag})
    assert other.status_code == 200


def test_the_ui_chunk_the_core_asks_for_is_served_immutable(client, make_site):
    site = make_site()
    core = client.get(f"/s/{site.site_key}.core.js").text
    name = ui_name_in(core)
    assert name == ui_chunk()[0]
    response = client.get(f"/s/{name}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert gzip.decompress(response.data) == BUILDS["ui"].read_bytes()
    again = client.get(f"/s/{name}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_another_builds_ui_chunk_is_a_script_404(client):
    response = client.get("/s/ui.0123456789abcdef.js")
    assert response.status_code == 404
    assert response.mimetype == "text/javascript"
    assert response.text.startswith("console.warn(")


def test_the_current_ui_chunk_is_archived_under_its_name():
    """snippet/build.mjs keeps every build's UI chunk in static/ui/, this one's included."""
    name, rendered = ui_chunk()
    assert (snippet.UI_ARCHIVE / name).read_bytes() == rendered.body


def test_an_earlier_builds_ui_chunk_is_served_from_the_archive(client, monkeypatch, tmp_path):
    """A core snippet cached before a deploy asks for the UI chunk of its own build."""
    monkeypatch.setattr(snippet, "UI_ARCHIVE", tmp_path)
    monkeypatch.setattr(snippet, "_archived", {})
    body = b"window.__accordUi = {};"
    name = f"ui.{hashlib.sha256(body).hexdigest()[:16]}.js"
    (tmp_path / name).write_bytes(body)
    damaged = "ui.0123456789abcdef.js"  # a file whose content is not the one its name says
    (tmp_path / damaged).write_bytes(body)
    response = client.get(f"/s/{name}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert "immutable" in response.headers["Cache-Control"]
    assert gzip.decompress(response.data) == body
    again = client.get(f"/s/{name}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    for other in (damaged, "ui.fedcba9876543210.js", "ui.XYZ.js", "ui...js"):
        missing = client.get(f"/s/{other}")
        assert missing.status_code == 404 and missing.text.startswith("console.warn("), other
    assert client.get("/s/ui..%2F..%2Faccord.js").status_code == 404


def test_core_of_an_unknown_site_is_a_script_404(client):
    response = client.get("/s/nosuchsite0.core.js")
    assert response.status_code == 404
    assert "no site has the key nosuchsite0" in response.text


def test_install_html_loads_the_site_snippet_async_with_a_nonce_placeholder():
    html = install_html("https://consent.example.com/", "abc123")
    assert html.count("<script") == 1
    assert '<script nonce="NONCE">' in html
    assert '"https://consent.example.com/s/abc123"' in html
    assert "__ACCORD_SNIPPET__" not in html
    assert "'default'" in html or '"default"' in html


def test_install_html_with_the_pages_nonce_for_a_page_of_this_server():
    """/demo's form: the nonce written in (escaped), the snippet's URL relative to the page."""
    html = install_html("", "abc123", nonce='n0"><b')
    assert html.count("<script") == 1 and "NONCE" not in html
    assert '<script nonce="n0&quot;&gt;&lt;b">' in html
    assert '"/s/abc123"' in html
