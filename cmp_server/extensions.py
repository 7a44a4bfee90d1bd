"""Flask extensions, created unbound; `create_app` binds them with `init_app`. Flask-Migrate
is bound by `database.init_migrations`, which imports it (and Alembic) only when it is used."""

from flask_limiter import Limiter
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

from cmp_server.visitor import client_ip, truncate_ip

# Named constraints so Alembic migrations are the same on SQLite and PostgreSQL.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))
login = LoginManager()
csrf = CSRFProtect()


def client_network() -> str:
    """Rate limits count per client network (IPv4 /24, IPv6 /48), as the README says: one
    IPv6 host holds a whole /64 of addresses, so a per-address limit would not hold it."""
    return truncate_ip(client_ip()) or client_ip()


limiter = Limiter(key_func=client_network, default_limits=[])
