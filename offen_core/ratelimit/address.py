# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Resolving the client address of a request, trusting forwarding headers only from proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from offen_core.errors import InvalidInputError

__all__ = ["TrustedProxies", "client_address", "normalise_address", "parse_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
HeaderItems = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]


@dataclass(frozen=True, init=False)
class TrustedProxies:
    """The proxies whose forwarding header is believed, and which header they write.

    Only one header is read: a proxy appends to the header it knows and passes any other
    header through untouched, so reading a second header would let a client forge it.

    Args:
        networks: Addresses or networks of the trusted proxies (``"10.0.0.0/8"``,
            ``"127.0.0.1"``, ``"::1"``).
        header: ``"x-forwarded-for"`` (the default) or ``"forwarded"`` (RFC 7239).

    Raises:
        InvalidInputError: If a network cannot be parsed or the header is another one.
    """

    networks: tuple[IPNetwork, ...]
    header: Literal["x-forwarded-for", "forwarded"]

    def __init__(
        self,
        networks: Iterable[str | IPNetwork] = (),
        header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for",
    ) -> None:
        parsed: list[IPNetwork] = []
        for network in networks:
            try:
                parsed.append(ipaddress.ip_network(network, strict=False))
            except ValueError:
                raise InvalidInputError(
                    "trusted_proxies", "each entry must be an IP address or network"
                ) from None
        if header not in ("x-forwarded-for", "forwarded"):
            raise InvalidInputError("header", "use 'x-forwarded-for' or 'forwarded'")
        object.__setattr__(self, "networks", tuple(parsed))
        object.__setattr__(self, "header", header)

    def trusts(self, address: str) -> bool:
        """Return True when ``address`` is one of the trusted proxies.

        Args:
            address: An IP address; anything else is not trusted.

        Returns:
            Whether the address lies in one of the networks.
        """
        parsed = parse_address(address)
        if parsed is None:
            return False
        return any(parsed.version == net.version and parsed in net for net in self.networks)


def normalise_address(address: str) -> str:
    """Return the canonical text of an IP address (IPv4-mapped IPv6 becomes IPv4).

    Args:
        address: An IPv4 or IPv6 address, optionally with a port or IPv6 brackets.

    Returns:
        The canonical form, or ``address`` stripped of white space when it is not an IP
        address (a Unix socket name, say).
    """
    parsed = parse_address(address)
    return str(parsed) if parsed is not None else address.strip()


def client_address(
    peer: str | None,
    headers: HeaderItems = (),
    proxies: TrustedProxies | None = None,
) -> str:
    """Return the address of the client that sent a request.

    The socket peer is the client, unless it is a trusted proxy: then the forwarding header
    is read from the right (the entry the nearest proxy wrote) to the left, skipping trusted
    proxies, and the first address that is not a trusted proxy is the client. An entry that
    is not an address (``unknown``, an obfuscated name) ends the walk at the proxy that wrote
    it, so such clients are counted together with that proxy rather than under a name they
    chose.

    Args:
        peer: The socket peer's address (ASGI ``scope["client"][0]``, WSGI
            ``REMOTE_ADDR``); ``None`` when unknown.
        headers: The request headers, as a mapping or as ``(name, value)`` pairs (str or
            bytes, as ASGI gives them); repeated headers are read in order.
        proxies: The trusted proxies; ``None`` trusts no proxy and ignores every header.

    Returns:
        The client's address in canonical form, or ``""`` when the peer is unknown.
    """
    if peer is None:
        return ""
    current = normalise_address(peer)
    if proxies is None or not proxies.networks or not proxies.trusts(current):
        return current

    for hop in reversed(_forwarded_chain(headers, proxies.header)):
        parsed = parse_address(hop)
        if parsed is None:
            return current
        current = str(parsed)
        if not proxies.trusts(current):
            return current
    return current


def parse_address(text: str) -> IPAddress | None:
    """Parse an IP address that may carry brackets, a port or a zone.

    Args:
        text: The address as a header or socket gives it.

    Returns:
        The address (IPv4-mapped IPv6 as IPv4), or ``None`` when ``text`` is not one.
    """
    value = text.strip().strip('"')
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return None
        value = value[1:end]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    if "%" in value:
        value = value.split("%", 1)[0]
    try:
        parsed = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def _header_values(headers: HeaderItems, name: str) -> list[str]:
    items: Iterable[tuple[str | bytes, str | bytes]]
    items = headers.items() if isinstance(headers, Mapping) else headers
    values: list[str] = []
    for key, value in items:
        key_text = key.decode("latin-1") if isinstance(key, bytes) else key
        if key_text.lower() == name:
            values.append(value.decode("latin-1") if isinstance(value, bytes) else value)
    return values


def _forwarded_chain(headers: HeaderItems, header: str) -> list[str]:
    """Return the hops of the forwarding header, client first, nearest proxy last."""
    hops: list[str] = []
    for value in _header_values(headers, header):
        if header == "x-forwarded-for":
            hops.extend(part.strip() for part in value.split(",") if part.strip())
        else:
            hops.extend(_forwarded_for(element) for element in _split_quoted(value, ","))
    return hops


def _forwarded_for(element: str) -> str:
    """Return the ``for=`` value of one RFC 7239 element, or ``""`` when it has none."""
    for pair in _split_quoted(element, ";"):
        name, sep, value = pair.partition("=")
        if sep and name.strip().lower() == "for":
            return value.strip().strip('"')
    return ""


def _split_quoted(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside double-quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and quoted:
            current.append(char)
            escaped = True
        elif char == '"':
            quoted = not quoted
            current.append(char)
        elif char == separator and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]
