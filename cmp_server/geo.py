"""Country lookup: one geoip2 reader per app, opened in `init_app` and kept in
`app.extensions` (two apps in one process, each with its own GEOIP_DB, never share one).

Without GEOIP_DB the country is unknown (None), and the strictest regime applies.
"""

import ipaddress

import geoip2.database
import geoip2.errors
from flask import Flask, current_app
from maxminddb import InvalidDatabaseError

from config import ConfigError

EXTENSION = "accord_geoip"


class GeoIP:
    """A MaxMind Country or City database (or none: every country unknown)."""

    def __init__(self, path: str | None = None):
        self.reader = None
        self._city = False
        if path:
            try:
                self.reader = geoip2.database.Reader(path)
            except (OSError, InvalidDatabaseError, ValueError) as exc:
                raise ConfigError(
                    f"GEOIP_DB {path!r} is not a readable MaxMind database: {exc}"
                ) from None
            kind = self.reader.metadata().database_type
            if "Country" not in kind and "City" not in kind:
                raise ConfigError(
                    f"GEOIP_DB {path!r} is a {kind!r} database: give a Country or City one "
                    "(GeoLite2-Country, DB-IP Country Lite)"
                )
            self._city = "City" in kind

    def country_for(self, ip: str | None) -> str | None:
        """ISO country code for an IP address, or None when unknown."""
        if self.reader is None or not ip:
            return None
        try:
            address = ipaddress.ip_address(ip)
            if address.version == 6 and address.ipv4_mapped:
                address = address.ipv4_mapped
            answer = (
                self.reader.city(str(address)) if self._city else self.reader.country(str(address))
            )
        except (ValueError, geoip2.errors.AddressNotFoundError, InvalidDatabaseError):
            return None
        return answer.country.iso_code or answer.registered_country.iso_code


def init_app(app: Flask) -> None:
    """Open the app's GeoIP reader (GEOIP_DB); ConfigError when it is not a usable one."""
    app.extensions[EXTENSION] = GeoIP(app.config.get("GEOIP_DB"))


def geoip_of(app: Flask | None = None) -> GeoIP:
    """The GeoIP reader of `app` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]
