"""The SSRF guard: where the hub may connect when it calls a bridge.

Bridge URLs are written by third parties. Without a guard, a URL pointing at the hub's own
machine, its private network or a cloud metadata service would make the hub a proxy into
places only it can reach. So before a call the guard checks the scheme, resolves the host
and refuses when *any* of its addresses is not public (unless the policy allows private
networks). It answers the address it checked, and the client connects to exactly that
address, so a DNS answer that changes between the check and the connection ("DNS
rebinding") cannot lead the call elsewhere.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import httpx

from bridgehub.bridge.errors import BridgeUnavailable, TargetRefused

IPAddress = IPv4Address | IPv6Address

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Resolves `(host, port)` to IP addresses, as strings."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver, without blocking the event loop."""
    answers = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))


@dataclass(frozen=True)
class NetworkPolicy:
    allow_private_networks: bool = False
    """Allow bridges on loopback, private, link-local... addresses (development, or bridges
    inside the hub's own network). Cloud metadata addresses stay refused."""
    allow_http: bool = False
    """Allow plain HTTP besides HTTPS (development only)."""


@dataclass(frozen=True)
class CheckedTarget:
    """A bridge URL that passed the guard, and the address it was checked at."""

    url: httpx.URL
    address: str

    @property
    def connect_url(self) -> httpx.URL:
        """The URL with the checked address in place of the host name."""
        return self.url.copy_with(host=self.address)

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")

    @property
    def server_name(self) -> str | None:
        """The name TLS must send and verify the certificate for; None for plain HTTP and for
        IP literals (which TLS verifies as they are)."""
        if self.url.scheme != "https" or _ip_literal(self.url.host) is not None:
            return None
        return self.url.raw_host.decode("ascii")


async def check_target(
    url: str, policy: NetworkPolicy, resolver: Resolver = system_resolver
) -> CheckedTarget:
    """Check `url` against `policy`: TargetRefused when refused, BridgeUnavailable when its
    host cannot be resolved. IP literals are checked as they are, without DNS."""
    parsed = _parse(url)
    _check_scheme(parsed, policy)
    if not parsed.host:
        raise TargetRefused(f"Bridge URL {shown_url(parsed)} has no host.")
    literal = _ip_literal(parsed.host)
    addresses = [literal] if literal is not None else await _resolve(parsed, resolver)
    for address in addresses:
        refusal = _refusal(address, policy)
        if refusal is not None:
            verb = "is" if literal is not None else "resolves to"
            raise TargetRefused(f"Bridge URL {shown_url(parsed)} {verb} {address}, {refusal}.")
    return CheckedTarget(parsed, str(addresses[0]))


def never_allowed(url: str) -> str | None:
    """Why the guard would refuse `url` under every policy, for registration to say at once:
    a host the URL parser cannot read, or a cloud metadata address (also when written as the
    one number or hexadecimal form the system's resolver reads as IPv4). None when calls may
    reach it; private addresses depend on the policy at call time, so they pass here."""
    try:
        host = httpx.URL(url).host
    except httpx.InvalidURL as error:
        return f"has a host the URL parser cannot read ({error})"
    address = _ip_literal(host)
    if address is None:
        address = _numeric_ipv4(host)
    if address is not None and _refusal(address, NetworkPolicy(allow_private_networks=True)):
        return f"is at {address}, a cloud metadata address, where bridges may never be"
    return None


def _numeric_ipv4(host: str) -> IPv4Address | None:
    # inet_aton reads what getaddrinfo reads as an IPv4 literal: "2852039166", "0xa9fea9fe".
    try:
        return IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def shown_url(url: httpx.URL | str) -> str:
    """The URL for messages and logs: without credentials, query or fragment, which may
    carry secrets."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "(an invalid URL)"
    return str(parsed.copy_with(username=None, password=None, query=None, fragment=None))


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise TargetRefused("The bridge URL is not a valid URL.") from None
    if not parsed.scheme:
        raise TargetRefused(f"Bridge URL {shown_url(parsed)} is not an absolute URL.")
    return parsed


def _check_scheme(url: httpx.URL, policy: NetworkPolicy) -> None:
    if url.scheme == "https" or (url.scheme == "http" and policy.allow_http):
        return
    if url.scheme == "http":
        raise TargetRefused(
            f"Bridge URL {shown_url(url)} uses plain HTTP, but bridges must be served over "
            "HTTPS; set BRIDGEHUB_ALLOW_HTTP=true to allow plain HTTP (for development)."
        )
    raise TargetRefused(f"Bridge URL {shown_url(url)} must use https, not {url.scheme}.")


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ip_address(host)
    except ValueError:
        return None


async def _resolve(url: httpx.URL, resolver: Resolver) -> list[IPAddress]:
    host = url.raw_host.decode("ascii")  # IDNA-encoded, as DNS and TLS want it
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        found = await resolver(host, port)
    except OSError as error:
        raise BridgeUnavailable(
            f"The host of bridge URL {shown_url(url)} could not be resolved "
            f"({error.strerror or error})."
        ) from None
    if not found:
        raise BridgeUnavailable(f"The host of bridge URL {shown_url(url)} has no address.")
    try:
        return [ip_address(address) for address in found]
    except ValueError:
        raise TargetRefused(
            f"The host of bridge URL {shown_url(url)} resolved to something that is not an IP "
            "address."
        ) from None


# Where bridges may never be, whatever the policy: these services hand out the machine's
# cloud credentials.
_CLOUD_METADATA = frozenset(
    ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, Azure, Google Cloud, OpenStack, DigitalOcean, Oracle...
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer (a public address that only Azure machines reach)
        "192.0.0.192",  # Oracle Cloud Classic
    )
)


def _classes(kind: str, *networks: str) -> list[tuple[str, IPv4Network | IPv6Network]]:
    return [(kind, ip_network(network)) for network in networks]


# The first matching class names the refusal.
_NON_PUBLIC = [
    *_classes("an unspecified address", "0.0.0.0/8", "::/128"),
    *_classes("a loopback address", "127.0.0.0/8", "::1/128"),
    *_classes(
        "a private address",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",  # unique local
        "fec0::/10",  # site-local (deprecated)
        "64:ff9b:1::/48",  # local-use NAT64
    ),
    *_classes("a shared address (carrier-grade NAT)", "100.64.0.0/10"),
    *_classes("a link-local address", "169.254.0.0/16", "fe80::/10"),
    *_classes("a multicast address", "224.0.0.0/4", "ff00::/8"),
    *_classes(
        "a reserved address",
        "240.0.0.0/4",  # with the broadcast address
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "100::/64",
        "2001:db8::/32",
    ),
]

# IPv6 forms that carry an IPv4 address in their last 32 bits, and so reach it.
_IPV4_COMPATIBLE = ip_network("::/96")
_NAT64 = ip_network("64:ff9b::/96")


def _refusal(address: IPAddress, policy: NetworkPolicy) -> str | None:
    embedded = _embedded_ipv4(address)
    if address in _CLOUD_METADATA or embedded in _CLOUD_METADATA:
        return "a cloud metadata address, where bridges may never be"
    if policy.allow_private_networks:
        return None
    kind = _non_public_kind(address)
    if kind is None:
        return None
    return f"{kind}; set BRIDGEHUB_ALLOW_PRIVATE_NETWORKS=true to allow private bridges"


def _non_public_kind(address: IPAddress) -> str | None:
    for kind, network in _NON_PUBLIC:
        if address in network:
            return kind
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        inner = _non_public_kind(embedded)
        return None if inner is None else f"{inner} (IPv4 {embedded} inside IPv6)"
    return None if address.is_global else "a non-public address"


def _embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _IPV4_COMPATIBLE or address in _NAT64:
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    return None
