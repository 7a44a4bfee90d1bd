"""Configuration classes, read from the environment.

Every setting is an environment variable; `Config.from_env()` checks them all and raises
`ConfigError` naming the first bad one, so a wrong setting stops start-up with a clear message.
"""

import os
import secrets
from pathlib import Path


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


def _bool(env, name, default):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


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


def _secret_key(env, instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    if env.get("SECRET_KEY"):
        if len(env["SECRET_KEY"]) < 16:
            raise ConfigError("SECRET_KEY must be at least 16 characters long")
        return env["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


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
    ACCORD_CONSENT_RATE_LIMIT = "120 per minute"
    ACCORD_PROXY_COUNT = 0
    ACCORD_COUNTRY_HEADER = None
    GEOIP_DB = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    ACCORD_GROUP_COMMIT = True
    ACCORD_SITE_CACHE_SECONDS = 2
    ACCORD_CHECKPOINT_MINUTES = 60

    @classmethod
    def from_env(cls, env=None) -> dict:
        """Settings as a dict, read and checked from `env` (default: os.environ)."""
        env = os.environ if env is None else env
        instance_path = Path(env.get("ACCORD_INSTANCE_PATH") or "instance").resolve()
        settings = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        settings["ACCORD_INSTANCE_PATH"] = str(instance_path)
        db_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'accord.db'}"
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(db_url)
        settings["SECRET_KEY"] = _secret_key(env, instance_path)
        settings["ACCORD_PROXY_COUNT"] = _int(env, "ACCORD_PROXY_COUNT", 0)
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
        settings["ACCORD_CONSENT_RATE_LIMIT"] = (
            env.get("ACCORD_CONSENT_RATE_LIMIT") or cls.ACCORD_CONSENT_RATE_LIMIT
        )
        settings["SESSION_COOKIE_SECURE"] = _bool(env, "ACCORD_SECURE_COOKIES", False)
        settings["ACCORD_GROUP_COMMIT"] = _bool(env, "ACCORD_GROUP_COMMIT", True)
        settings["ACCORD_CHECKPOINT_MINUTES"] = _int(env, "ACCORD_CHECKPOINT_MINUTES", 60, 1)
        settings["ACCORD_SITE_CACHE_SECONDS"] = _int(env, "ACCORD_SITE_CACHE_SECONDS", 2, 0)
        return settings
