# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Resolving the client address behind trusted proxies."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offen_core.errors import InvalidInputError
from offen_core.ratelimit import TrustedProxies, client_address, normalise_address

PROXIES = TrustedProxies(["10.0.0.0/8", "::1"])


def test_peer_is_the_client_without_trusted_proxies() -> None:
    headers = {"X-Forwarded-For": "203.0.113.9"}
    assert client_address("198.51.100.1", headers) == "198.51.100.1"
    assert client_address("198.51.100.1", headers, TrustedProxies()) == "198.51.100.1"


def test_header_from_an_untrusted_peer_is_ignored() -> None:
    headers = {"X-Forwarded-For": "203.0.113.9"}
    assert client_address("198.51.100.1", headers, PROXIES) == "198.51.100.1"


def test_trusted_proxy_forwards_the_client_address() -> None:
    headers = {"x-forwarded-for": "203.0.113.9"}
    assert client_address("10.1.2.3", headers, PROXIES) == "203.0.113.9"


def test_forged_leftmost_entries_are_not_believed() -> None:
    # The client sent "1.1.1.1" itself; the trusted proxy appended the real peer.
    headers = {"X-Forwarded-For": "1.1.1.1, 203.0.113.9"}
    assert client_address("10.1.2.3", headers, PROXIES) == "203.0.113.9"


def test_chain_of_trusted_proxies_is_skipped_from_the_right() -> None:
    headers = [(b"x-forwarded-for", b"1.1.1.1, 203.0.113.9"), (b"x-forwarded-for", b"10.9.9.9")]
    assert client_address("10.1.2.3", headers, PROXIES) == "203.0.113.9"


def test_chain_of_only_trusted_proxies_gives_the_leftmost() -> None:
    assert client_address("10.1.2.3", {"X-Forwarded-For": "10.0.0.5"}, PROXIES) == "10.0.0.5"


def test_trusted_proxy_without_header_is_the_client() -> None:
    assert client_address("10.1.2.3", {}, PROXIES) == "10.1.2.3"


def test_unparsable_entry_stops_at_the_proxy_that_wrote_it() -> None:
    headers = {"X-Forwarded-For": "203.0.113.9, unknown"}
    assert client_address("10.1.2.3", headers, PROXIES) == "10.1.2.3"


def test_forwarded_header_with_ipv6_and_ports() -> None:
    proxies = TrustedProxies(["10.0.0.0/8"], header="forwarded")
    headers = {"Forwarded": 'for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"'}
    assert client_address("10.0.0.1", headers, proxies) == "2001:db8:cafe::17"


def test_forwarded_header_quoted_commas_do_not_split_elements() -> None:
    proxies = TrustedProxies(["10.0.0.0/8"], header="forwarded")
    headers = {"Forwarded": 'for=192.0.2.60;by="a,b"'}
    assert client_address("10.0.0.1", headers, proxies) == "192.0.2.60"


def test_only_the_configured_header_is_read() -> None:
    # A proxy that writes X-Forwarded-For passes a client's own Forwarded header through.
    headers = {"Forwarded": "for=1.1.1.1", "X-Forwarded-For": "203.0.113.9"}
    assert client_address("10.0.0.1", headers, PROXIES) == "203.0.113.9"
    forwarded = TrustedProxies(["10.0.0.0/8"], header="forwarded")
    assert client_address("10.0.0.1", {"X-Forwarded-For": "1.1.1.1"}, forwarded) == "10.0.0.1"


def test_unknown_peer_gives_an_empty_address() -> None:
    assert client_address(None, {"X-Forwarded-For": "203.0.113.9"}, PROXIES) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("2001:DB8::0001", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("192.0.2.1:8080", "192.0.2.1"),
        (" 192.0.2.1 ", "192.0.2.1"),
        ("unix:/run/sock", "unix:/run/sock"),
    ],
)
def test_normalise_address(text: str, expected: str) -> None:
    assert normalise_address(text) == expected


def test_bad_proxy_configuration_is_rejected() -> None:
    with pytest.raises(InvalidInputError):
        TrustedProxies(["not-a-network"])
    with pytest.raises(InvalidInputError):
        TrustedProxies(["10.0.0.0/8"], header="x-real-ip")  # type: ignore[arg-type]


_PROXY_NETWORK = ipaddress.ip_network("10.0.0.0/8")


@given(
    client=st.ip_addresses(v=4).filter(lambda a: a not in _PROXY_NETWORK),
    forged=st.lists(st.ip_addresses().map(str), max_size=3),
    hops=st.lists(st.ip_addresses(network="10.0.0.0/8").map(str), max_size=3),
)
def test_a_client_behind_trusted_proxies_cannot_choose_its_address(
    client: ipaddress.IPv4Address, forged: list[str], hops: list[str]
) -> None:
    # The client may send any X-Forwarded-For of its own; the proxies append what they saw.
    header = ", ".join([*forged, str(client), *hops])
    resolved = client_address(
        "10.0.0.1", {"X-Forwarded-For": header}, TrustedProxies(["10.0.0.0/8"])
    )
    assert resolved == str(client)
