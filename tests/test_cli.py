"""The accord commands of the contract, run with the app loaded."""

import json

from cmp_server.services import revisions, sites
from cmp_server.services.staff import find_user


def test_site_create_list_export_import_publish(runner, tmp_path):
    created = runner.invoke(
        args=["site", "create", "--name", "Shop", "--origin", "https://shop.example", "--json"]
    )
    assert created.exit_code == 0, created.output
    key = json.loads(created.output)["site_key"]

    listed = json.loads(runner.invoke(args=["site", "list", "--json"]).output)
    assert [(s["site_key"], s["revision"]) for s in listed] == [(key, None)]

    exported = runner.invoke(args=["site", "export", key])
    document = json.loads(exported.output)
    assert document["origins"] == ["https://shop.example"]
    document["privacy_policy_url"] = "https://shop.example/privacy"  # else publishing is refused
    path = tmp_path / "site.json"
    path.write_text(json.dumps(document))

    imported = runner.invoke(args=["site", "import", str(path), "--publish", "--json"])
    assert imported.exit_code == 0, imported.output
    result = json.loads(imported.output)
    assert result["revision"] == 1
    assert sites.export_site(sites.get_site(result["site_key"])) == document

    draft = runner.invoke(args=["site", "import", str(path), "--site", key])
    assert draft.output.strip() == key
    published = runner.invoke(args=["site", "publish", key])
    assert published.exit_code == 0 and "revision 1" in published.output


def test_import_reports_what_is_wrong(runner, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "", "languages": ["en"], "consent_lifetime_days": "x"}))
    result = runner.invoke(args=["site", "import", str(path)])
    assert result.exit_code == 1
    assert "name" in result.output and "consent_lifetime_days" in result.output
    path.write_text("{not json")
    assert "not valid JSON" in runner.invoke(args=["site", "import", str(path)]).output


def test_unknown_site_is_a_clear_error(runner):
    result = runner.invoke(args=["site", "export", "nope"])
    assert result.exit_code == 1
    assert "No site has the key 'nope'" in result.output


def test_user_create_reads_the_password_from_stdin(runner):
    result = runner.invoke(
        args=["user", "create", "--email", "DPO@Shop.example", "--role", "dpo"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = find_user("dpo@shop.example")
    assert user.role == "dpo"
    assert user.password_hash.startswith("$argon2id$")
    short = runner.invoke(
        args=["user", "create", "--email", "x@shop.example", "--role", "admin"], input="short\n"
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def test_demo_creates_a_published_site_and_an_admin_once(runner):
    first = runner.invoke(args=["demo"], env={"ACCORD_DEMO_PASSWORD": "demo password 123"})
    assert first.exit_code == 0, first.output
    assert "admin@example.com / demo password 123" in first.output
    again = runner.invoke(args=["demo"])
    assert "exists" in again.output
    [demo] = sites.list_sites()
    assert revisions.published_revision(demo).number == 1


def test_seed_appends_valid_records(runner):
    runner.invoke(args=["demo"], env={"ACCORD_DEMO_PASSWORD": "demo password 123"})
    [demo] = sites.list_sites()
    result = runner.invoke(args=["seed", "--site", demo.site_key, "--count", "300"])
    assert result.exit_code == 0, result.output
    from tests.services.test_sealing import assert_chain_is_whole

    assert len(assert_chain_is_whole(demo)) == 300


def test_new_site_keys_never_read_as_an_option():
    """A key starting with `-` made `accord site export KEY` fail ("No such option")."""
    from cmp_server.models.site import new_site_key

    keys = {new_site_key() for _ in range(5000)}
    assert len(keys) == 5000
    assert all(key.isalnum() and key.isascii() and len(key) == 12 for key in keys)
