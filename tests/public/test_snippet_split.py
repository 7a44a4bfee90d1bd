"""The snippet's split (issue #17): GET /s/KEY.core.js (no banner UI) and GET /s/ui.<hash>.js
(the UI the core fetches), next to the full GET /s/KEY.js."""

import gzip
import re

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
    assert "data-accord-action" in full.text and "data-accord-action" not in core.text
    assert core.headers["ETag"] != full.headers["ETag"]


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
