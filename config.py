"""Configuration classes, read from the environment.

Every setting is an environment variable; `Config.from_env()` checks them all and raises
`ConfigError` naming the first bad one, so a wrong setting stops start-up with a clear message.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it and says what is expected."""


def _int(env, name, default, minimum=0):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _seconds(env, name, default, minimum=0.0):
    """A duration in seconds, fractions allowed (`0.25`)."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value >= minimum or value == float("inf"):  # also refuses nan
        raise ConfigError(f"{name} must be a number of seconds of at least {minimum}, got {raw!r}")
    return value


def database_slots(env) -> int:
    """ACCORD_DB_REQUEST_SLOTS: how many requests of one worker may use the database at once.
    By default a few of gunicorn's threads (GUNICORN_THREADS) are kept for what needs no
    database (snippet, keys, health), so a hung database cannot take every thread."""
    threads = _int(env, "GUNICORN_THREADS", 16, 1)
    default = max(1, threads - max(2, threads // 8))
    return _int(env, "ACCORD_DB_REQUEST_SLOTS", default, 1)


def _bool(env, name, default):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _rate_limit(env, name, default):
    """A limit such as `10000 per minute` (the syntax of the `limits` library)."""
    from limits import parse_many

    raw = env.get(name) or default
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a limit like '10000 per minute', got {raw!r}") from None
    return raw


def normalise_database_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` as psycopg 3 URLs; reject unknown schemes."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("postgresql+psycopg://", "sqlite://")):
        return url
    raise ConfigError(
        f"DATABASE_URL must be a sqlite:/// or postgresql:// URL, got {url.split(':')[0]!r}"
    )


def public_url(env) -> str | None:
    """ACCORD_PUBLIC_URL without its trailing slash: the scheme, host and optional path prefix
    browsers reach Accord at. When set, it alone names the API in the snippet, whatever the
    request's Host or X-Forwarded-* headers say."""
    raw = (env.get("ACCORD_PUBLIC_URL") or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"ACCORD_PUBLIC_URL must be an http(s) URL, got {raw!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"ACCORD_PUBLIC_URL must be a scheme, host and optional path only, got {raw!r}"
        )
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ConfigError(f"ACCORD_PUBLIC_URL has an invalid port: {raw!r}") from None
    return raw.rstrip("/")


def witness_urls(env) -> list[str]:
    """ACCORD_WITNESSES: comma-separated http(s) base URLs of the witnesses that cosign this
    installation's checkpoints (docs/witness.md); none by default."""
    urls = []
    for raw in (env.get("ACCORD_WITNESSES") or "").split(","):
        raw = raw.strip()
        if not raw:
            continue
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ConfigError(f"ACCORD_WITNESSES must list http(s) URLs, got {raw!r}")
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ConfigError(f"ACCORD_WITNESSES has an invalid port: {raw!r}") from None
        urls.append(raw.rstrip("/"))
    return urls


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def log_level(env) -> str:
    """ACCORD_LOG_LEVEL: the least severe level of Accord's own log lines (default INFO)."""
    raw = (env.get("ACCORD_LOG_LEVEL") or "INFO").strip().upper()
    if raw not in LOG_LEVELS:
        raise ConfigError(f"ACCORD_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return raw


def make_private_folder(path: Path) -> None:
    """Create `path` (and its parents) readable by its owner only, if it does not exist: it
    holds the SQLite database and the generated secret key."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)  # mkdir's mode is filtered by the umask; this one is not


def write_private_file(path: Path, text: str) -> None:
    """Write a new file that only its owner can read (created so, never readable meanwhile)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)


SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def make_private_database_file(path: Path) -> None:
    """Create the SQLite database file owner-only (SQLite gives its -wal and -shm files the
    database file's mode), and take group and other permissions away from an existing one
    we own: it holds password and token hashes, consents and the encrypted signing keys."""
    make_private_folder(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # an empty file is a database
    for companion in SQLITE_COMPANIONS:
        file = path.with_name(path.name + companion)
        try:
            stat = file.stat()
        except FileNotFoundError:
            continue
        if stat.st_uid == os.getuid() and stat.st_mode & 0o077:
            file.chmod(stat.st_mode & 0o700)


def instance_path_of(env) -> Path:
    return Path(env.get("ACCORD_INSTANCE_PATH") or "instance").resolve()


def database_url_of(env, instance_path: Path) -> str:
    db_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'accord.db'}"
    return normalise_database_url(db_url)


def _secret_key(env, instance_path: Path, create: bool) -> str:
    """SECRET_KEY from the environment, else the one kept in the instance folder, generated
    there the first time when `create` (the server, `accord db upgrade`). Without `create`
    and without a key file, a throwaway key: a command that only prints help or checks a
    bundle must not leave an instance folder behind."""
    if env.get("SECRET_KEY"):
        if len(env["SECRET_KEY"]) < 16:
            raise ConfigError("SECRET_KEY must be at least 16 characters long")
        return env["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    if create:
        make_private_folder(instance_path)
        write_private_file(key_file, key)
    return key


# Bounded waits on the database (README, "When the database hangs"): name -> (default, minimum).
DATABASE_BOUNDS = {
    "ACCORD_DB_CONNECT_TIMEOUT": (3.0, 1.0),
    "ACCORD_DB_STATEMENT_TIMEOUT": (30.0, 0.0),
    "ACCORD_DB_LOCK_TIMEOUT": (10.0, 0.0),
    "ACCORD_DB_KEEPALIVE_SECONDS": (10.0, 1.0),
    "ACCORD_DB_POOL_TIMEOUT": (2.0, 0.0),
    "ACCORD_DB_WAIT_SECONDS": (5.0, 0.1),
    "ACCORD_DB_STALE_WAIT_SECONDS": (0.5, 0.0),
    "ACCORD_DB_SLOT_WAIT_SECONDS": (0.25, 0.0),
    "ACCORD_HEALTH_TIMEOUT_SECONDS": (2.0, 0.1),
}


def database_bounds(env) -> dict:
    settings = {name: _seconds(env, name, *bound) for name, bound in DATABASE_BOUNDS.items()}
    settings["ACCORD_DB_REQUEST_SLOTS"] = database_slots(env)
    return settings


class Config:
    """Defaults for every environment; `from_env` overrides them from environment variables."""

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    MAX_CONTENT_LENGTH = 64 * 1024  # a consent is ~0.5 KiB; browsers' keepalive budget is 64 KiB
    JSON_SORT_KEYS = False
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Per client network (IPv4 /24, IPv6 /48): sized for the busiest real network, a mobile
    # carrier's carrier-grade NAT in front of a very large site (README, "Rate limits").
    ACCORD_CONSENT_RATE_LIMIT = "10000 per minute"
    ACCORD_PROXY_COUNT = 0
    ACCORD_PUBLIC_URL = None
    ACCORD_CREATE_INSTANCE = True  # False for CLI commands that must not write to disk
    ACCORD_COUNTRY_HEADER = None
    GEOIP_DB = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    ACCORD_GROUP_COMMIT = True
    ACCORD_SITE_CACHE_SECONDS = 2
    ACCORD_CHECKPOINT_MINUTES = 60
    ACCORD_WITNESSES: list[str] = []
    ACCORD_LOG_LEVEL = "INFO"

    @staticmethod
    def environment() -> dict:
        """The process environment, where every setting is read from by default."""
        return dict(os.environ)

    @classmethod
    def from_env(cls, env=None, create_instance: bool = True) -> dict:
        """Settings as a dict, read and checked from `env` (default: os.environ). Without
        `create_instance`, nothing is written to disk (see `_secret_key`)."""
        env = os.environ if env is None else env
        instance_path = instance_path_of(env)
        settings = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        settings["ACCORD_INSTANCE_PATH"] = str(instance_path)
        settings["ACCORD_CREATE_INSTANCE"] = create_instance
        settings["SQLALCHEMY_DATABASE_URI"] = database_url_of(env, instance_path)
        settings["SECRET_KEY"] = _secret_key(env, instance_path, create_instance)
        settings["ACCORD_PROXY_COUNT"] = _int(env, "ACCORD_PROXY_COUNT", 0)
        settings["ACCORD_PUBLIC_URL"] = public_url(env)
        settings["ACCORD_COUNTRY_HEADER"] = env.get("ACCORD_COUNTRY_HEADER") or None
        geoip = env.get("GEOIP_DB") or None
        if geoip and not Path(geoip).is_file():
            raise ConfigError(f"GEOIP_DB points to {geoip!r}, which is not a readable file")
        settings["GEOIP_DB"] = geoip
        redis_url = env.get("REDIS_URL")
        if redis_url:
            if not redis_url.startswith(("redis://", "rediss://", "unix://")):
                raise ConfigError(
                    f"REDIS_URL must start with redis:// or rediss://, got {redis_url!r}"
                )
            settings["RATELIMIT_STORAGE_URI"] = redis_url
        settings["RATELIMIT_ENABLED"] = _bool(env, "ACCORD_RATELIMIT_ENABLED", True)
        settings["ACCORD_CONSENT_RATE_LIMIT"] = _rate_limit(
            env, "ACCORD_CONSENT_RATE_LIMIT", cls.ACCORD_CONSENT_RATE_LIMIT
        )
        settings["SESSION_COOKIE_SECURE"] = _bool(env, "ACCORD_SECURE_COOKIES", False)
        settings["ACCORD_GROUP_COMMIT"] = _bool(env, "ACCORD_GROUP_COMMIT", True)
        settings["ACCORD_CHECKPOINT_MINUTES"] = _int(env, "ACCORD_CHECKPOINT_MINUTES", 60, 1)
        settings["ACCORD_SITE_CACHE_SECONDS"] = _int(env, "ACCORD_SITE_CACHE_SECONDS", 2, 0)
        settings["ACCORD_WITNESSES"] = witness_urls(env)
        settings.update(scanner_settings(env))
        settings["ACCORD_LOG_LEVEL"] = log_level(env)
        settings.update(database_bounds(env))
        return settings


def scanner_settings(env) -> dict:
    """The scanner's browser and the job queue (README, "Scanner")."""
    redis_url = env.get("ACCORD_REDIS_URL") or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"ACCORD_REDIS_URL must start with redis:// or rediss://, got {redis_url!r}"
        )
    return {
        "ACCORD_REDIS_URL": redis_url,
        "ACCORD_CHROMIUM": env.get("ACCORD_CHROMIUM") or "/usr/bin/chromium",
        "ACCORD_SCAN_SETTLE_MS": _int(env, "ACCORD_SCAN_SETTLE_MS", 1500, 0),
        "ACCORD_SCAN_QUIET_MS": _int(env, "ACCORD_SCAN_QUIET_MS", 500, 0),
        "ACCORD_SCAN_BANNER_TIMEOUT_MS": _int(env, "ACCORD_SCAN_BANNER_TIMEOUT_MS", 10_000, 100),
        "ACCORD_SCAN_PRIVATE_NETWORKS": _bool(env, "ACCORD_SCAN_PRIVATE_NETWORKS", False),
    }
