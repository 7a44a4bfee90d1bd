"""Hardening of the `accord` command and of the settings, seen by a new user and by another
local user: run outside the checkout, files on disk, settings that would open a hole.
"""

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from config import Config, ConfigError

BIN = Path(sys.executable).parent
DB_COMMANDS = [
    ["site", "list"],
    ["token", "list"],
    ["proofs", "verify", "--site", "abc"],
    ["purge", "--dry-run"],
    ["demo"],
]


def accord(*args, cwd, env=None, umask=None, input=None) -> subprocess.CompletedProcess:
    """The installed console script, with nothing but these settings in its environment."""
    base = {"PATH": os.environ["PATH"], "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run(
        [str(BIN / "accord"), *args],
        cwd=cwd,
        env={**base, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        umask=-1 if umask is None else umask,
    )


PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway test account


def copy_instance(template: Path, folder: Path) -> None:
    """A copy of the instance folder `template` (modes included) in `folder`, where a command
    run from `folder` finds it (./instance)."""
    shutil.copytree(template, folder / "instance")


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory) -> Path:
    """The instance folder (database, secret key) that `accord db upgrade` makes in an empty
    folder, made once: the tests whose subject comes after the upgrade start from a copy of
    it instead of running the command again (a Python that imports the app, each time)."""
    folder = tmp_path_factory.mktemp("upgraded")
    result = accord("db", "upgrade", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "instance"


@pytest.fixture(scope="module")
def with_an_admin(upgraded, tmp_path_factory) -> Path:
    """`upgraded`, then `accord user create` of an admin a@example.com."""
    folder = tmp_path_factory.mktemp("with-an-admin")
    copy_instance(upgraded, folder)
    args = ["user", "create", "--email", "a@example.com", "--role", "admin"]
    result = accord(*args, cwd=folder, input=f"{PASSWORD}\n")
    assert result.returncode == 0, result.stderr
    return folder / "instance"


# --- 17: outside the checkout ---------------------------------------------------------------


@pytest.mark.parametrize("args", DB_COMMANDS, ids=" ".join)
def test_outside_a_checkout_a_command_says_which_database_and_creates_nothing(tmp_path, args):
    result = accord(*args, cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert str(tmp_path / "instance" / "accord.db") in line
    assert "accord db upgrade" in line
    assert list(tmp_path.iterdir()) == []  # no ./instance, no key file


@pytest.mark.parametrize("args", [["--help"], ["site", "--help"], ["site", "list", "--help"]])
def test_help_writes_nothing(tmp_path, args):
    result = accord(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_database_is_one_line(tmp_path):
    url = f"postgresql://postgres@127.0.0.1:5432/accord_missing_{uuid.uuid4().hex[:8]}"
    result = accord("site", "list", cwd=tmp_path, env={"DATABASE_URL": url})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "accord_missing_" in line
    assert list(tmp_path.iterdir()) == []


def test_after_db_upgrade_the_same_folder_works(tmp_path):
    assert accord("db", "upgrade", cwd=tmp_path).returncode == 0
    result = accord("site", "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "No sites yet" in result.stdout


# --- 9: the instance folder and the SQLite files are the owner's alone ----------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_instance_is_private_under_the_default_umask(tmp_path):
    instance = tmp_path / "srv" / "instance"
    env = {"ACCORD_INSTANCE_PATH": str(instance)}
    result = accord("db", "upgrade", cwd=tmp_path, env=env, umask=0o022)
    assert result.returncode == 0, result.stderr
    assert mode(instance) == 0o700
    files = list(instance.iterdir())
    assert {f.name for f in files} >= {"accord.db", "secret_key"}
    for file in files:
        assert mode(file) == 0o600, file


def test_an_existing_world_readable_database_is_made_private(tmp_path, upgraded):
    env = {"ACCORD_INSTANCE_PATH": str(tmp_path / "instance")}
    copy_instance(upgraded, tmp_path)
    database = tmp_path / "instance" / "accord.db"
    database.chmod(0o644)
    assert accord("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    assert mode(database) == 0o600


# --- 10: staff text in a terminal -----------------------------------------------------------


def test_site_list_never_prints_a_terminal_escape(tmp_path, upgraded):
    """A name saved before control characters were refused is printed escaped."""
    copy_instance(upgraded, tmp_path)
    made = accord(
        "site", "create", "--name", "Shop", "--origin", "https://shop.example", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(tmp_path / "instance" / "accord.db") as conn:
        conn.execute("UPDATE sites SET name = ?", ("Shop\x1b[2J\x1b]0;owned\x07",))
    listed = accord("site", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "\x1b" not in listed.stdout and "\x07" not in listed.stdout
    assert "Shop\\x1b[2J" in listed.stdout


@pytest.mark.parametrize("name", ["Shop\x1b[2J", "Shop\nadmin@example.com", "Shop\x9b31m"])
def test_site_create_refuses_control_characters(tmp_path, upgraded, name):
    copy_instance(upgraded, tmp_path)
    result = accord("site", "create", "--name", name, cwd=tmp_path)
    assert result.returncode != 0
    assert "control characters" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["ci\x1b[2J", "ci\nfake line"])
def test_token_names_refuse_control_characters(tmp_path, with_an_admin, name):
    copy_instance(with_an_admin, tmp_path)
    token = accord("token", "create", "--email", "a@example.com", "--name", name, cwd=tmp_path)
    assert token.returncode != 0
    assert "control characters" in token.stderr
    assert "Traceback" not in token.stderr


# --- 12, 14: settings ------------------------------------------------------------------------


def settings(tmp_path, **env):
    return Config.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 32, **env})


@pytest.mark.parametrize(
    "value", ["consent.example.com", "ftp://consent.example.com", "https://", "https://c.test/?a=1"]
)
def test_a_malformed_public_url_stops_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match="ACCORD_PUBLIC_URL"):
        settings(tmp_path, ACCORD_PUBLIC_URL=value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://consent.example.com/", "https://consent.example.com"),
        ("https://example.com/consent", "https://example.com/consent"),
        ("", None),
    ],
)
def test_the_public_url_is_kept_without_its_trailing_slash(tmp_path, value, expected):
    assert settings(tmp_path, ACCORD_PUBLIC_URL=value)["ACCORD_PUBLIC_URL"] == expected


def test_a_malformed_rate_limit_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="ACCORD_CONSENT_RATE_LIMIT"):
        settings(tmp_path, ACCORD_CONSENT_RATE_LIMIT="lots")


def test_the_default_consent_limit_admits_a_carrier_grade_nat_at_peak(tmp_path):
    """The README's reckoning: up to ~8,000 decisions a minute from one /24 at the busiest
    minute of a very large site; the default must admit that."""
    from limits import parse

    limit = parse(settings(tmp_path)["ACCORD_CONSENT_RATE_LIMIT"])
    assert limit.amount / limit.get_expiry() * 60 >= 8000
