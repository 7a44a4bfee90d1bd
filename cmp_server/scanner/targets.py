"""Which hosts the server's browser may reach when staff start a scan.

A marketer can add any origin to a site and then scan it: without a guard the server's
Chromium would load the network it runs in (127.0.0.1 services, a cloud metadata address,
the office LAN) and the report or the failure message would tell what answered there. So a
scan started from the console or the admin API refuses a target whose host is, or resolves
to, an address that is not globally routable, and the browser aborts every request to such a
host during the scan; a redirect that lands there stops the scan. The operator allows private
targets (a test rig, a site on the LAN) with ACCORD_SCAN_PRIVATE_NETWORKS=1; the `accord scan`
CLI, run by the operator, always may.
"""

import ipaddress
import socket
from urllib.parse import urlsplit


class PrivateTarget(Exception):
    """A URL whose host is, or resolves to, a private, loopback or otherwise local address."""


def _addresses(host: str) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()  # unresolvable: the browser cannot reach it either
    return tuple({info[4][0] for info in infos})


def is_private_host(host: str) -> bool:
    """Whether `host` (a name or an IP literal, brackets allowed) is or resolves to an address
    that is not globally routable (loopback, private, link-local, shared, reserved...)."""
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        return False
    for address in _addresses(host):
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            return True
    return False


def check_public(url: str) -> str:
    """`url` itself, or PrivateTarget when its host is not on the public internet."""
    host = urlsplit(url).hostname or ""
    if is_private_host(host):
        raise PrivateTarget(
            f"{host} is a private or local address: the server's browser does not load it "
            "(the operator allows it with ACCORD_SCAN_PRIVATE_NETWORKS=1)"
        )
    return url
