# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""URL handling for the metrics: page keys, campaign parameters and referrer buckets.

Offen parses URLs with the browser's WHATWG parser; this module reproduces the parts the
metrics read (origin, host with a non-default port, path with Offen's trailing slash, query
parameters decoded like ``URLSearchParams``) on top of `urllib.parse`, memoised per string
because a site has far fewer distinct URLs than pageviews.
"""

from __future__ import annotations

from contextlib import suppress
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, urlsplit

__all__ = ["page_key", "referrer_bucket"]

# Ports a WHATWG URL drops from its host because they are the scheme's default.
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
# Characters a WHATWG path keeps as they are; everything else is percent-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~[]|^`{}"
_CACHE_SIZE = 1 << 16

_APP_SCHEME = "android-app"


class ParsedURL(NamedTuple):
    """The parts of a URL the metrics read."""

    scheme: str
    host: str
    path: str
    key: str
    query: str


@lru_cache(maxsize=_CACHE_SIZE)
def parse_url(url: str) -> ParsedURL | None:
    """Parse ``url`` the way Offen's vault sees it after its normalisation.

    Returns ``None`` for a string without a scheme, which Offen's validation rejects.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not scheme:
        return None

    if scheme in _DEFAULT_PORTS:
        hostname = parts.hostname or ""
        if ":" in hostname:
            hostname = f"[{hostname}]"
        elif not hostname.isascii():
            with suppress(UnicodeError):
                hostname = hostname.encode("idna").decode("ascii")
        host = hostname if port is None or port == _DEFAULT_PORTS[scheme] else f"{hostname}:{port}"
        origin = f"{scheme}://{host}"
        path = parts.path or "/"
    else:
        # Non-special schemes (android-app:, mailto:) have an opaque origin and keep case.
        host = parts.netloc.rpartition("@")[2]
        origin = "null"
        path = parts.path

    if not path.isascii():
        path = quote(path, safe=_PATH_SAFE)
    # Offen's normalisation: every path ends in a slash, so /foo and /foo/ are one page.
    if not path.endswith("/"):
        path += "/"
    return ParsedURL(scheme, host, path, origin + path, parts.query)


def page_key(url: str) -> str | None:
    """Return the key under which Offen counts a page: origin plus path, with a final slash.

    The query and the fragment are dropped and the path gets Offen's trailing slash, so
    ``https://www.offen.dev/foo?bar#baz`` and ``https://www.offen.dev/foo/`` are both
    ``https://www.offen.dev/foo/``.

    Args:
        url: An absolute URL.

    Returns:
        The page key, or ``None`` when ``url`` has no scheme (Offen rejects such events).
    """
    parsed = parse_url(url)
    return None if parsed is None else parsed.key


def page_key_or_none(url: str | None) -> str | None:
    """`page_key` that passes a missing URL through as ``None``."""
    if not url:
        return None
    parsed = parse_url(url)
    return None if parsed is None else parsed.key


_NO_UTM = (None, None)


@lru_cache(maxsize=_CACHE_SIZE)
def utm_values(url: str) -> tuple[str | None, str | None]:
    """Return the first ``utm_campaign`` and ``utm_source`` values of ``url``'s query.

    Values are decoded like ``URLSearchParams.get``: ``+`` and ``%20`` become spaces, and
    only the first occurrence of a name counts, even when it is empty.
    """
    parsed = parse_url(url)
    if parsed is None or "utm_" not in parsed.query:
        return _NO_UTM
    campaign: str | None = None
    source: str | None = None
    seen_campaign = seen_source = False
    for name, value in parse_qsl(parsed.query, keep_blank_values=True, errors="replace"):
        if name == "utm_campaign" and not seen_campaign:
            campaign, seen_campaign = value, True
        elif name == "utm_source" and not seen_source:
            source, seen_source = value, True
    return campaign or None, source or None


@lru_cache(maxsize=_CACHE_SIZE)
def referrer_value(referrer: str, href: str | None) -> str | None:
    """Return Offen's ``$referrer`` of an event: a bucket name, a host, or ``None``.

    ``None`` stands for no referrer, an unparsable one, and a referrer on the page's own
    host (internal navigation).
    """
    ref = parse_url(referrer)
    if ref is None or not ref.host:
        return None
    if href:
        page = parse_url(href)
        if page is not None and page.host == ref.host:
            return None
    if ref.scheme == _APP_SCHEME:
        return _match_app(ref.host) or ref.host
    return _match_host(ref.host) or ref.host


def referrer_bucket(referrer: str) -> str:
    """Return the bucket a referrer host falls into, or the input when none matches.

    The input is what Offen's bucket function receives: a host (``www.google.de``), or an
    Android app referrer (``android-app://com.slack/``); a path after the host is ignored.
    Patterns match whole labels of the host name (of the app id for ``android-app://``), so
    ``microsoft.co`` is not Twitter and ``duckduckgo.community`` is not DuckDuckGo, while
    every host Offen's own tests list lands where Offen puts it.

    Args:
        referrer: A referrer host, optionally followed by a path, or an ``android-app://``
            referrer.

    Returns:
        The bucket name (``"Google"``, ``"Twitter"``, ...) or ``referrer`` unchanged.
    """
    prefix, sep, rest = referrer.partition("://")
    if sep and prefix.lower() == _APP_SCHEME:
        return _match_app(rest.split("/", 1)[0]) or referrer
    host = referrer
    for stop in "/?#":
        host = host.split(stop, 1)[0]
    return _match_host(host) or referrer


def _labels(host: str) -> list[str]:
    host = host.lower()
    # The port is not part of the name the patterns talk about.
    if ":" in host and not host.endswith("]"):
        host = host.rsplit(":", 1)[0]
    return host.split(".")


def _contains(labels: list[str], run: tuple[str, ...]) -> bool:
    width = len(run)
    return any(tuple(labels[i : i + width]) == run for i in range(len(labels) - width + 1))


def _ends_with(labels: list[str], run: tuple[str, ...]) -> bool:
    return len(labels) >= len(run) and tuple(labels[-len(run) :]) == run


@lru_cache(maxsize=4096)
def _match_host(host: str) -> str | None:
    """Offen's host patterns (buckets.js), in Offen's order, on whole labels."""
    labels = _labels(host)
    count = len(labels)
    named = labels[1:] if labels[0] == "www" else labels
    if len(named) >= 2 and named[0] == "google" and named[1][:1].isalpha():
        return "Google"
    if labels == ["web", "telegram", "org"]:
        return "Telegram"
    if count >= 3 and labels[0] in {"l", "lm", "m", "www"} and labels[1:3] == ["facebook", "com"]:
        return "Facebook"
    if _contains(labels, ("duckduckgo", "com")):
        return "DuckDuckGo"
    if _contains(labels, ("ecosia", "org")):
        return "Ecosia"
    if _contains(labels, ("qwant", "com")):
        return "Qwant"
    if _ends_with(labels, ("baidu", "com")):
        return "Baidu"
    if _ends_with(labels, ("linkedin", "com")):
        return "LinkedIn"
    if _ends_with(labels, ("t", "co")):
        return "Twitter"
    if labels == ["news", "ycombinator", "com"]:
        return "Hacker News"
    if count == 3 and labels[0] in {"old", "www"} and labels[1:] == ["reddit", "com"]:
        return "Reddit"
    if count >= 3 and _ends_with(labels, ("wikipedia", "org")):
        return "Wikipedia"
    if count >= 3 and _ends_with(labels, ("zoom", "us")):
        return "Zoom"
    return None


@lru_cache(maxsize=4096)
def _match_app(app_id: str) -> str | None:
    """Offen's ``android-app://`` patterns, matched on the labels of the app id."""
    labels = app_id.lower().split(".")
    count = len(labels)
    if count >= 3 and labels[:2] == ["org", "telegram"]:
        return "Telegram"
    if labels == ["com", "slack"]:
        return "Slack"
    if count >= 3 and labels[:2] == ["com", "linkedin"]:
        return "LinkedIn"
    if count >= 4 and labels[:3] == ["com", "laurencedawson", "reddit_sync"]:
        return "Reddit"
    return None
