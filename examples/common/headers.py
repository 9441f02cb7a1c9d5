# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The security headers of every answer, chosen by the request path in one table.

Both servers call `response_headers` for every response they send (their own 404 and 405
pages included), so a page can never go out without its policy.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from examples.common.pages import is_operator_page

__all__ = ["CSP", "HSTS", "PageKind", "page_kind", "response_headers"]


class PageKind(StrEnum):
    """What a path serves, which decides its Content-Security-Policy and caching."""

    API = "api"
    """JSON answers of ``/api/*``, ``/healthz`` and ``/versionz``: never cached, never framed."""
    ASSET = "asset"
    """``/script.js`` and ``/browser/*``: scripts and styles, revalidated on each use."""
    INDEX = "index"
    """The example's start page ``/``."""
    VAULT = "vault"
    """``/vault/``: framed by any site that embeds the tracker."""
    VISITOR = "visitor"
    """``/visitor/``: the visitor's own data, never framed."""
    DEMO = "demo"
    """``/demo/``: the demo host page."""
    OPERATOR = "operator"
    """``/join/<token>/`` and ``/reset-password/<token>/``: an operator sets a password; never
    framed, never cached (the address carries a one-time token)."""


_PAGE_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"
)

CSP: Final[dict[PageKind, str]] = {
    # JSON and scripts are never rendered as documents; a policy that allows nothing stops a
    # browser from running anything if one ever is (Offen sent no policy with JSON).
    PageKind.API: "default-src 'none'; frame-ancestors 'none'",
    PageKind.ASSET: "default-src 'none'; frame-ancestors 'none'",
    PageKind.INDEX: f"{_PAGE_POLICY}; frame-ancestors 'none'",
    PageKind.VAULT: f"{_PAGE_POLICY}; frame-ancestors *",
    PageKind.VISITOR: f"{_PAGE_POLICY}; frame-ancestors 'none'",
    PageKind.DEMO: f"{_PAGE_POLICY}; frame-ancestors 'none'",
    PageKind.OPERATOR: f"{_PAGE_POLICY}; frame-ancestors 'none'",
}
"""The Content-Security-Policy of each kind of answer (no inline script or style anywhere)."""

HSTS: Final = "max-age=31536000"
"""The Strict-Transport-Security value sent when the server is reached over TLS (one year)."""

_COMMON: Final = (
    # Offen sent the invalid value "no-sniff"; browsers ignore that.
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def page_kind(path: str) -> PageKind:
    """Tell what kind of answer a request path gets.

    Args:
        path: The request path, without the query string.

    Returns:
        The kind; anything that is not a page or an asset counts as `PageKind.API`.
    """
    if path == "/":
        return PageKind.INDEX
    if path in ("/vault", "/vault/"):
        return PageKind.VAULT
    if path in ("/visitor", "/visitor/"):
        return PageKind.VISITOR
    if path == "/demo" or path.startswith("/demo/"):
        return PageKind.DEMO
    if is_operator_page(path):
        return PageKind.OPERATOR
    if path == "/script.js" or path.startswith("/browser/"):
        return PageKind.ASSET
    return PageKind.API


def response_headers(path: str, *, tls: bool) -> list[tuple[str, str]]:
    """Give the security and caching headers of an answer.

    Args:
        path: The request path, without the query string.
        tls: Whether the server is reached over TLS (the request came over https, or the
            public base URL is https); adds ``Strict-Transport-Security``.

    Returns:
        ``(name, value)`` pairs; each replaces a header of that name set by a handler.
    """
    kind = page_kind(path)
    headers = [*_COMMON, ("Content-Security-Policy", CSP[kind])]
    if kind is not PageKind.VAULT:
        headers.append(("X-Frame-Options", "DENY"))
    # The operator page's address carries a one-time token: keep it out of every cache.
    uncached = kind in (PageKind.API, PageKind.OPERATOR)
    headers.append(("Cache-Control", "no-store" if uncached else "no-cache"))
    if tls:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers
