"""A wrong setting stops start-up with a message that names it."""

import pytest

from config import Config, ConfigError, normalise_database_url


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"ACCORD_PROXY_COUNT": "two"}, "ACCORD_PROXY_COUNT"),
        ({"ACCORD_PROXY_COUNT": "-1"}, "ACCORD_PROXY_COUNT"),
        ({"GEOIP_DB": "/nonexistent/GeoLite2-Country.mmdb"}, "GEOIP_DB"),
        ({"REDIS_URL": "http://localhost:6379"}, "REDIS_URL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ACCORD_RATELIMIT_ENABLED": "perhaps"}, "ACCORD_RATELIMIT_ENABLED"),
        ({"ACCORD_SITE_CACHE_SECONDS": "-1"}, "ACCORD_SITE_CACHE_SECONDS"),
    ],
)
def test_bad_settings_are_named(tmp_path, env, name):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path), **env})


def test_defaults_use_sqlite_in_the_instance_folder_and_keep_a_secret_key(tmp_path):
    settings = Config.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path)})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'accord.db'}"
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    again = Config.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path)})
    assert again["SECRET_KEY"] == settings["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_redis_url_moves_rate_limits_to_redis(tmp_path):
    settings = Config.from_env(
        {"ACCORD_INSTANCE_PATH": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:6379/0"}
    )
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/a.db", "sqlite:////tmp/a.db"),
    ],
)
def test_database_urls_mean_psycopg3(url, normal):
    assert normalise_database_url(url) == normal


def test_a_broken_geoip_file_stops_start_up(tmp_path):
    from cmp_server import create_app

    not_mmdb = tmp_path / "x.mmdb"
    not_mmdb.write_bytes(b"not a database")
    with pytest.raises(ConfigError, match="GEOIP_DB"):
        create_app({"GEOIP_DB": str(not_mmdb), "ACCORD_INSTANCE_PATH": str(tmp_path)})


@pytest.mark.parametrize(
    ("name", "country"), [("GeoIP2-Country-Test.mmdb", "GB"), ("GeoLite2-City-Test.mmdb", "GB")]
)
def test_country_and_city_databases_both_work(name, country):
    from cmp_server.geo import GeoIP
    from tests.conftest import ROOT

    geo = GeoIP(str(ROOT / "tests/data/geoip" / name))
    assert geo.country_for("81.2.69.160") == country
    assert geo.country_for("::ffff:81.2.69.160") == country
    assert geo.country_for("127.0.0.1") is None
    assert geo.country_for("garbage") is None


def test_a_database_of_another_kind_stops_start_up():
    from cmp_server.geo import GeoIP
    from tests.conftest import ROOT

    with pytest.raises(ConfigError, match="GEOIP_DB"):
        GeoIP(str(ROOT / "tests/data/geoip/libmaxminddb-corrupt-search-tree.mmdb"))


def test_two_apps_in_one_process_keep_their_own_geoip_reader(tmp_path):
    """A module-level reader made the last app's database every app's: a test app with the
    test database would have changed the country of another app's visitors."""
    from cmp_server import create_app
    from cmp_server.geo import geoip_of
    from tests.conftest import GEOIP_COUNTRY_DB

    secret = {"SECRET_KEY": "a-secret-key-of-some-length"}
    with_geoip = create_app(
        {**secret, "ACCORD_INSTANCE_PATH": str(tmp_path / "a"), "GEOIP_DB": GEOIP_COUNTRY_DB}
    )
    without = create_app({**secret, "ACCORD_INSTANCE_PATH": str(tmp_path / "b")})
    assert geoip_of(with_geoip).country_for("81.2.69.160") == "GB"
    assert geoip_of(without).country_for("81.2.69.160") is None
    assert geoip_of(with_geoip).country_for("81.2.69.160") == "GB"


def test_a_caller_that_gives_the_secret_and_instance_path_gets_nothing_written_elsewhere(
    tmp_path, monkeypatch
):
    """create_app with its own SECRET_KEY and ACCORD_INSTANCE_PATH (tests, embedding) used to
    leave ./instance/secret_key in whatever folder it ran from."""
    from cmp_server import create_app

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    for name in ("SECRET_KEY", "ACCORD_INSTANCE_PATH", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"
    app = create_app(
        {"SECRET_KEY": "a-secret-key-of-some-length", "ACCORD_INSTANCE_PATH": str(instance)}
    )
    assert list(cwd.iterdir()) == []
    assert not (instance / "secret_key").exists()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'accord.db'}"
    env = {"SECRET_KEY": "a-secret-key-of-some-length", "ACCORD_INSTANCE_PATH": str(instance)}
    Config.from_env(env)
    assert list(cwd.iterdir()) == []


def test_site_cache_seconds_is_read_from_the_environment(tmp_path):
    base = {"ACCORD_INSTANCE_PATH": str(tmp_path)}
    assert Config.from_env(base)["ACCORD_SITE_CACHE_SECONDS"] == 2
    assert (
        Config.from_env({**base, "ACCORD_SITE_CACHE_SECONDS": "0"})["ACCORD_SITE_CACHE_SECONDS"]
        == 0
    )
