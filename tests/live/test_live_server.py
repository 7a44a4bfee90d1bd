"""A new user's first steps on a real server: two workers, the CLI, the console, the snippet.
The first steps store and read back on each backend; the number of workers is gunicorn's
alone (SQLite only)."""

import json
import re

import pytest

from cmp_server.services.demo import demo_site_config


@pytest.fixture(scope="module")
def live_server_own_migration():
    """A new installation: the server's database is made by its own `accord db upgrade`, as a
    new user's is, not copied from the tier's template."""
    return True


def test_a_new_installation_serves_the_console_and_a_snippet(live_server, tmp_path):
    password = live_server.create_user("owner@example.com", "admin")
    config = {**demo_site_config(["https://first.example"]), "name": "First shop"}
    path = tmp_path / "site.json"
    path.write_text(json.dumps(config))
    imported = json.loads(live_server.accord("site", "import", path, "--publish", "--json").stdout)

    console = live_server.login("owner@example.com", password)
    sites_page = console.get(live_server.url + "/admin/sites", timeout=30)
    assert sites_page.status_code == 200
    assert "First shop" in sites_page.text

    snippet = live_server.get(f"/s/{imported['site_key']}.js")
    assert snippet.status_code == 200
    assert snippet.headers["Content-Type"].startswith("text/javascript")
    assert re.search(r'"revision":\s*1\b', snippet.text)


@pytest.mark.sqlite_only
def test_the_server_runs_two_workers(live_server):
    """The tier exists to see what differs between workers: make sure there are two."""
    assert live_server.log().count("Booting worker") == 2
