"""What the server learns about a visitor from a request, captured once when they decide.

The full IP address is used here (for the country) and then dropped: only its /24 (IPv4) or
/48 (IPv6) network leaves this module.
"""

import ipaddress
from dataclasses import dataclass
from functools import cache, lru_cache

from flask import current_app, request

from cmp_server.geo import GeoIP, geoip_of


def client_ip() -> str:
    """The visitor's address as seen after ProxyFix (trusted proxies only)."""
    return request.remote_addr or "0.0.0.0"  # noqa: S104 - a placeholder, never bound


def truncate_ip(ip: str | None) -> str | None:
    """The network an address belongs to: IPv4 /24, IPv6 /48 (an IPv4-mapped IPv6 as IPv4)."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@dataclass(frozen=True, slots=True)
class Agent:
    browser: str | None
    os: str | None
    device_type: str


@cache
def user_agent_parser():
    """`user_agents.parse`, imported on first use: loading its regexes takes a tenth of a
    second, which `accord` commands need not wait for. A server loads it when its app is
    made (factory.py), before its first request."""
    from user_agents import parse

    return parse


@lru_cache(maxsize=10_000)
def describe_user_agent(ua: str) -> Agent:
    """Browser family, OS family and device type; parsing is slow, so results are cached."""
    if not ua:
        return Agent(None, None, "unknown")
    parsed = user_agent_parser()(ua[:512])
    if parsed.is_bot:
        device = "bot"
    elif parsed.is_tablet:
        device = "tablet"
    elif parsed.is_mobile:
        device = "mobile"
    elif parsed.is_pc:
        device = "desktop"
    else:
        device = "other"
    return Agent(parsed.browser.family[:64], parsed.os.family[:64], device)


@dataclass(frozen=True, slots=True)
class VisitorContext:
    country: str | None
    browser: str | None
    os: str | None
    device_type: str
    ip_truncated: str | None
    gpc: bool


def country_of(
    header_value: str | None, remote_addr: str | None, geoip: GeoIP | None = None
) -> str | None:
    """The country from a trusted CDN header's value when it names one, else from GeoIP
    (`geoip`, default the current app's)."""
    if header_value:
        value = header_value.strip().upper()
        if len(value) == 2 and value.isalpha() and value not in ("XX", "T1"):
            return value
    return (geoip or geoip_of()).country_for(remote_addr)


def sends_gpc(header_value: str | None) -> bool:
    """Whether a `Sec-GPC` header's value is the Global Privacy Control signal."""
    return (header_value or "").strip() == "1"


def country_from_request() -> str | None:
    """The country from the trusted CDN header (ACCORD_COUNTRY_HEADER), else from GeoIP."""
    header = current_app.config.get("ACCORD_COUNTRY_HEADER")
    return country_of(request.headers.get(header) if header else None, request.remote_addr)


def visitor_context() -> VisitorContext:
    agent = describe_user_agent(request.headers.get("User-Agent", ""))
    return VisitorContext(
        country=country_from_request(),
        browser=agent.browser,
        os=agent.os,
        device_type=agent.device_type,
        ip_truncated=truncate_ip(request.remote_addr),
        gpc=sends_gpc(request.headers.get("Sec-GPC")),
    )
