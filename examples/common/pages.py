# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The static pages and files both servers serve, looked up by request path.

The browser side lives in ``examples/browser/`` (docs/guides/browser.md): ``/script.js``,
``/vault/``, ``/visitor/``, ``/demo/`` (and any path below it), the operator page at
``/join/<token>/`` and ``/reset-password/<token>/`` (the addresses the mails link to) and
``/browser/<file>``. The start page ``/`` is the example's own. Only files present in the
folder when the server starts are served, by their plain names, so no path can reach outside
it. Headers come from `examples.common.headers`; this module gives bodies and content types.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from offen_core.server.tokens import MAX_TOKEN_LENGTH

__all__ = ["BROWSER_DIR", "INDEX_PAGE", "Page", "Pages", "is_operator_page"]

BROWSER_DIR: Final = Path(__file__).resolve().parents[1] / "browser"
"""The folder of the browser side."""

INDEX_PAGE: Final = Path(__file__).resolve().with_name("index.html")
"""The example's start page."""

_TYPES: Final = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
_HTML: Final = _TYPES[".html"]

# One path segment of the characters a mailed token is made of (URL-safe base64 and the
# signature's separators), up to the longest token the server reads; a segment of dots only
# would be a relative path, not a token.
_OPERATOR_PATH: Final = re.compile(
    rf"/(?:join|reset-password)/(?!\.+/?$)[A-Za-z0-9._~-]{{1,{MAX_TOKEN_LENGTH}}}/?"
)


def is_operator_page(path: str) -> bool:
    """Tell whether a path is a link of an invitation or password reset mail.

    The server answers every such path with the same page; the page reads the token from its
    own address, so no token is ever written into HTML.

    Args:
        path: The request path, without the query string.

    Returns:
        ``True`` for ``/join/<token>/`` and ``/reset-password/<token>/`` (the final slash is
        optional), ``False`` for anything else, a missing or nested token included.
    """
    return _OPERATOR_PATH.fullmatch(path) is not None


@dataclass(frozen=True, slots=True)
class Page:
    """A static answer.

    Attributes:
        body: The bytes to send.
        content_type: The ``Content-Type`` header.
    """

    body: bytes
    content_type: str


class Pages:
    """The static answers of one server, read once at start.

    Args:
        browser_dir: The folder of the browser side.
        script_url: The tracker's URL written into the demo page.
        demo_account_id: Gives the account the demo page counts for (``""`` for none);
            called for each demo page.
    """

    def __init__(
        self,
        browser_dir: Path = BROWSER_DIR,
        *,
        script_url: str = "/script.js",
        demo_account_id: Callable[[], str] = lambda: "",
    ) -> None:
        self._files = {
            path.name: Page(path.read_bytes(), _TYPES.get(path.suffix, "application/octet-stream"))
            for path in sorted(browser_dir.iterdir())
            if path.is_file() and not path.name.startswith(".")
        }
        self._index = Page(INDEX_PAGE.read_bytes(), _HTML)
        self._demo = (browser_dir / "demo.html").read_text(encoding="utf-8")
        self._script_url = script_url
        self._demo_account_id = demo_account_id

    @property
    def file_names(self) -> tuple[str, ...]:
        """The names served under ``/browser/``."""
        return tuple(self._files)

    def lookup(self, path: str) -> Page | None:
        """Find the static answer of a path.

        Args:
            path: The request path, without the query string.

        Returns:
            The page, or ``None`` when the path is not a static one.
        """
        if path == "/":
            return self._index
        if path == "/script.js":
            return self._files.get("script.js")
        if path in ("/vault", "/vault/"):
            return self._files.get("vault.html")
        if path in ("/visitor", "/visitor/"):
            return self._files.get("visitor.html")
        if path == "/demo" or path.startswith("/demo/"):
            return self.demo_page()
        if is_operator_page(path):
            return self._files.get("operator.html")
        if path.startswith("/browser/"):
            return self._files.get(path.removeprefix("/browser/"))
        return None

    def demo_page(self) -> Page:
        """Give the demo host page with the tracker's URL and the account id filled in.

        Returns:
            The page; both values are HTML-escaped.
        """
        text = self._demo.replace("{{SCRIPT_URL}}", html.escape(self._script_url)).replace(
            "{{ACCOUNT_ID}}", html.escape(self._demo_account_id())
        )
        return Page(text.encode("utf-8"), _HTML)
