"""Which network addresses a server may connect to on a user's behalf (SSRF protection).

Only globally routable unicast addresses are allowed by default. Loopback, private
(RFC 1918, unique-local), link-local, shared (CGNAT), multicast, unspecified, reserved,
documentation and benchmarking ranges and known cloud-metadata endpoints are refused,
including when they hide inside IPv4-mapped, NAT64, 6to4 or Teredo IPv6 addresses.
An `AddressGuard` built from an allowlist of host names and CIDRs lets chosen hosts
through (tests and local use allow `127.0.0.1`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import anyio

from memento_core.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")  # what a local HTTP server answers to by default


def is_loopback(host: str) -> bool:
    """A bind address or host name that only this machine reaches (serving there needs no token)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# Cloud metadata services; most are link-local or private already, listed so the refusal says why.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "169.254.169.253", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo), if any."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def refusal_reason(ip: IPAddress) -> str | None:
    """Why connecting to `ip` is refused by default, or None if it is a public unicast address."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        reason = refusal_reason(inner)
        return f"{reason} (inside {ip})" if reason else None
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for reason, flag in (
        ("a loopback address", ip.is_loopback),
        ("an unspecified address", ip.is_unspecified),
        ("a link-local address", ip.is_link_local),
        ("a multicast address", ip.is_multicast),
        ("a private address", ip.is_private),
        ("a reserved address", ip.is_reserved),
        ("a site-local address", getattr(ip, "is_site_local", False)),
    ):
        if flag:
            return reason
    if not ip.is_global:
        return "a non-public address"
    return None


def parse_ip(host: str) -> IPAddress | None:
    """`host` as an IP address (brackets and IPv6 zone ids tolerated), or None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (one lookup, all families)."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}", kind="dns") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class AddressGuard:
    """Resolves a host once and vets every address before anything connects to it.

    `allow` holds host names (exact, or `*.example.org` for subdomains) and IPs/CIDRs
    (`127.0.0.1`, `10.0.0.0/8`, `::1`) that may be reached although non-public.
    """

    allow_names: frozenset[str]
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    resolver: Resolver = system_resolver

    @classmethod
    def from_allowlist(cls, allow: Iterable[str], resolver: Resolver | None = None) -> AddressGuard:
        names: set[str] = set()
        networks = []
        for entry in allow:
            entry = entry.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.lower().rstrip("."))
        return cls(frozenset(names), tuple(networks), resolver or system_resolver)

    def name_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if host in self.allow_names:
            return True
        return any(n.startswith("*.") and host.endswith(n[1:]) for n in self.allow_names)

    def check_address(self, host: str, ip: IPAddress) -> None:
        """Raise a `FetchError` (kind "blocked") unless `ip`, reached as `host`, may be contacted."""
        reason = refusal_reason(ip)
        if reason is None or self.name_allowed(host) or any(ip in net for net in self.allow_networks):
            return
        shown = host if parse_ip(host) is not None else f"{host} ({ip})"
        raise FetchError(
            f"refused to connect to {shown}: {reason}. Only public addresses are fetched; "
            "the server's operator can allow a host with --allow-host.",
            kind="blocked",
        )

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """The vetted addresses of `host`; refuses the host if ANY of its addresses is refused."""
        literal = parse_ip(host)
        if literal is not None:
            addresses = [literal]
        else:
            if host.lower().rstrip(".") == "localhost" or host.lower().endswith(".localhost"):
                addresses = [ipaddress.ip_address("127.0.0.1")]  # never ask DNS about localhost
            else:
                addresses = [a for a in (parse_ip(raw) for raw in await self.resolver(host, port)) if a is not None]
            if not addresses:
                raise FetchError(f"host {host!r} has no address", kind="dns")
        for ip in addresses:
            self.check_address(host, ip)
        return addresses
