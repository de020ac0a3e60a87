"""Requests the server makes to addresses users gave it (webhook receivers, push
endpoints), guarded against server-side request forgery: only http(s), no credentials
in the URL, and every address the name resolves to must be public (not private,
loopback, link-local, shared, reserved or multicast: 169.254.169.254 and `[::1]`
included) unless WEBHOOK_ALLOWED_HOSTS names the host or its network. The request
then goes to the address that was checked (a second resolution could answer
differently), and each redirect is checked the same way (at most MAX_REDIRECTS)."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from flask import current_app

from chat.errors import ValidationError

MAX_REDIRECTS = 3
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL may not be reached (its message says why)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    address: str  # the checked address the connection goes to
    path: str  # path and query


def check_url(url: str, field: str = "url") -> None:
    """ValidationError (naming `field`) unless `url` may be reached now."""
    try:
        target(url)
    except Refused as exc:
        raise ValidationError(fields={field: [str(exc)]}) from None


def target(url: str) -> Target:
    """Where a request for `url` goes, after the checks. Raises Refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused("Only http and https URLs.")
    if parts.username is not None or parts.password is not None:
        raise Refused("No credentials in the URL.")
    try:
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("Not a valid URL.") from None
    if not host:
        raise Refused("Not a valid URL.")
    addresses = _resolve(host, port)
    if not _allowed(host, addresses):
        for address in addresses:
            if not all(a.is_global and not a.is_multicast for a in _reached(address)):
                raise Refused(f"{host} is a private, loopback or link-local address.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, str(addresses[0]), path)


NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
COMPATIBLE = ipaddress.ip_network("::/96")  # IPv4-compatible (deprecated, still routed)


def _reached(address: Address) -> list[Address]:
    """The address, and the IPv4 address an IPv6 one carries (6to4, NAT64, Teredo,
    IPv4-compatible): `::7f00:1` and `64:ff9b::a9fe:a9fe` reach 127.0.0.1 and
    169.254.169.254 through a translator, so both must be public."""
    if isinstance(address, ipaddress.IPv4Address):
        return [address]
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    embedded = [address.sixtofour, address.teredo[1] if address.teredo else None]
    if address in COMPATIBLE or any(address in net for net in NAT64):
        embedded.append(low32)
    return [address, *(e for e in embedded if e is not None)]


def _resolve(host: str, port: int) -> list[Address]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Refused(f"{host} does not resolve.") from None
    addresses = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None)
        addresses.append(mapped or address)
    if not addresses:
        raise Refused(f"{host} does not resolve.")
    return addresses


def _allowed(host: str, addresses: list[Address]) -> bool:
    """Whether WEBHOOK_ALLOWED_HOSTS names the host, or a network holding every address."""
    allowed = current_app.config["WEBHOOK_ALLOWED_HOSTS"]
    if host.lower() in (a.lower() for a in allowed):
        return True
    networks = []
    for entry in allowed:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # a host name
    return bool(networks) and all(any(a in n for n in networks) for a in addresses)


def post(url: str, body: bytes, headers: dict, timeout: float) -> int:
    """POST `body` to `url` (redirects followed, each checked); the final status.

    Raises:
        Refused: a URL (or redirect) that may not be reached.
        urllib3.exceptions.HTTPError / OSError: no answer.
    """
    for _ in range(MAX_REDIRECTS + 1):
        where = target(url)
        response = _pool(where, timeout).urlopen(
            "POST",
            where.path,
            body=body,
            headers={**headers, "Host": _host_header(where)},
            redirect=False,
            retries=False,
            assert_same_host=False,
        )
        location = response.headers.get("Location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response.status
        url = urljoin(url, location)
    raise Refused("Too many redirects.")


def _pool(where: Target, timeout: float) -> urllib3.HTTPConnectionPool:
    if where.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            where.address,
            where.port,
            timeout=timeout,
            server_hostname=where.host,
            assert_hostname=where.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            maxsize=1,
        )
    return urllib3.HTTPConnectionPool(where.address, where.port, timeout=timeout, maxsize=1)


def _host_header(where: Target) -> str:
    default = 443 if where.scheme == "https" else 80
    host = f"[{where.host}]" if ":" in where.host else where.host
    return host if where.port == default else f"{host}:{where.port}"
