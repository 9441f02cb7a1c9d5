# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers of the real-browser tests: Chromium, the live example server, a second origin.

The FastAPI example runs in a real uvicorn on a free port of 127.0.0.1 (in a thread of the
test process, so the tests can read its Store directly); a plain `http.server` on another
port of 127.0.0.1 serves the host pages that embed the tracker. The two are different
origins (ports differ) of one site, as a site and its analytics on subdomains of one domain
would be: the vault's cookies are first-party there over plain http, while its storage is
out of the host page's reach.
"""

from __future__ import annotations

import email
import html
import json
import os
import re
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Final, TypeVar

import httpx
import uvicorn

from examples.asgi.app import create_app
from examples.common.service import Service
from examples.common.settings import Settings
from offen_core.client.http import OffenClient
from offen_core.crypto import PrivateKey, decrypt_asymmetric, decrypt_symmetric, hash_fast
from offen_core.events import StoredEvent
from offen_core.testing import shared_key_pair_pool

CHROMIUM_ARGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
"""The command-line switches of every Chromium the tests start (DESIGN.md, The browser side)."""

E2E_DIR: Final = Path(__file__).resolve().parent
AXE_SCRIPT: Final = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
SECRET_PREFIX: Final = "offen-core:user-secret:"
SESSION_PREFIX: Final = "offen-core:session:"
FRAME_TITLE: Final = "Consent for anonymous usage statistics"
EMAIL: Final = "operator@example.org"


def find_chromium() -> str | None:
    """The Chromium executable: ``$OFFEN_CORE_CHROMIUM`` or ``chromium`` on the PATH."""
    named = os.environ.get("OFFEN_CORE_CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return shutil.which("chromium")


def free_socket(host: str = "127.0.0.1") -> socket.socket:
    """A listening TCP socket on a free port of ``host``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


_T = TypeVar("_T")


def wait_until(
    probe: Callable[[], _T | None], *, timeout: float = 15.0, what: str = "a condition"
) -> _T:
    """Poll ``probe`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


@dataclass
class LiveServer:
    """The FastAPI example serving a set-up instance on 127.0.0.1.

    Attributes:
        url: The origin, such as ``http://127.0.0.1:43123``.
        service: The example's service (its ``store`` is the server's).
        account_id: The instance's account.
        password: The operator's password (the email is `EMAIL`).
        outbox: The folder the server writes its mails to.
    """

    url: str
    service: Service
    account_id: str
    password: str = field(repr=False)
    outbox: Path = field(repr=False)

    def mailed_link(self, to: str, kind: str) -> str:
        """The newest link of a kind (``join`` or ``reset-password``) mailed to ``to``."""
        pattern = re.compile(rf"{re.escape(self.url)}/{kind}/[^/\s]+/")
        for path in sorted(self.outbox.iterdir(), reverse=True):
            message = email.message_from_bytes(path.read_bytes())
            if message["To"] != to:
                continue
            found = pattern.search(message.get_payload(decode=True).decode("utf-8"))
            if found:
                return found.group(0)
        raise AssertionError(f"no {kind} link was mailed to {to}")

    def invite(self, invitee: str) -> str:
        """Share the account with ``invitee`` as the operator over HTTP; give the join link."""
        with httpx.Client(base_url=self.url) as client:
            login = client.post("/api/login", json={"username": EMAIL, "password": self.password})
            assert login.status_code == 200, login.text
            shared = client.post(
                "/api/share-account",
                json={
                    "invitee": invitee,
                    "emailAddress": EMAIL,
                    "password": self.password,
                    "grantAdminPrivileges": False,
                },
            )
            assert shared.status_code == 204, shared.text
        return self.mailed_link(invitee, "join")

    def events(self) -> list[StoredEvent]:
        """Every event of the account, as stored (ciphertext)."""
        return list(self.service.store.events_for_account(self.account_id).events)

    def secret_id(self, user_id: str) -> str:
        """The secret id the server files a visitor's events under."""
        account = self.service.store.get_account(self.account_id)
        return hash_fast(user_id, account.user_salt)

    def events_of(self, user_id: str) -> list[StoredEvent]:
        """The stored events of one visitor, by the id of their ``user`` cookie."""
        secret_id = self.secret_id(user_id)
        return [event for event in self.events() if event.secret_id == secret_id]

    def operator_view(self) -> dict[str, Any]:
        """Log in over HTTP as the operator and read the whole account view."""
        with OffenClient(self.url) as client:
            login = client.login(EMAIL, self.password)
            accounts = login["accounts"]
            (grant,) = [item for item in accounts if item["accountId"] == self.account_id]
            view = client.get_account(self.account_id)
        view["keyEncryptionKey"] = grant["keyEncryptionKey"]
        return view


def decrypt_account(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Walk Offen's key chain by hand: KEK, private key, user secrets, payloads.

    Args:
        view: `LiveServer.operator_view`.

    Returns:
        The decrypted payloads by event id.
    """
    wrapped_key = view["encryptedPrivateKey"]
    private_jwk = json.loads(decrypt_symmetric(view["keyEncryptionKey"], wrapped_key))
    private_key = PrivateKey.from_jwk(private_jwk)
    secrets_by_id: dict[str, dict[str, Any]] = {}
    payloads: dict[str, dict[str, Any]] = {}
    for event in view["events"][view["accountId"]]:
        secret_id = event["secretId"]
        if secret_id not in secrets_by_id:
            wrapped = view["secrets"][secret_id]
            secrets_by_id[secret_id] = json.loads(decrypt_asymmetric(private_key, wrapped))
        plaintext = decrypt_symmetric(secrets_by_id[secret_id], event["payload"])
        payloads[event["eventId"]] = json.loads(plaintext)
    return payloads


@contextmanager
def live_server(folder: Path, **overrides: Any) -> Iterator[LiveServer]:
    """Run the FastAPI example in uvicorn in a thread, on a new SQLite database.

    The account's key pair comes from the test session's pool of 2048-bit pairs.

    Args:
        folder: Where the database and the mail outbox go.
        overrides: Further settings (``recovery_keys=True``).
    """
    password = secrets.token_urlsafe(12)
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    outbox = folder / "outbox"
    settings = Settings(
        secret=secrets.token_bytes(32),
        database_url=f"sqlite:///{folder / 'e2e.db'}",
        base_url=url,
        expiry_interval=0,
        mail_outbox=str(outbox),
        access_log=False,
        **overrides,
    )
    service = Service(settings, key_pair_factory=shared_key_pair_pool())
    service.start()
    service.operators.setup(
        {"accountName": "E2E site", "emailAddress": EMAIL, "password": password}
    )
    (account,) = service.store.list_accounts()
    config = uvicorn.Config(
        create_app(service=service),
        log_level="warning",
        # uvicorn's own logging set-up would re-enable every logger the app configured.
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=20, what="uvicorn to start")
        yield LiveServer(url, service, account.account_id, password, outbox)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        service.close()


_START_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Start</title></head>
<body><main><h1>Start</h1>
<p><a id="to-article" href="/article.html?utm_source=e2e&amp;utm_campaign=tests">Read it</a></p>
</main></body>
</html>
"""

_TRACKED_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
{head}
<script src="{script}" data-account-id="{account}" defer></script>
</head>
<body><main><h1>{title}</h1><p>A host page on another origin than the vault.</p></main>
{body}
</body>
</html>
"""

# A script of the host page that tries every way to the vault's secrets it can think of.
_HOSTILE_SCRIPT = """<script>
window.seenMessages = [];
window.addEventListener('message', (event) => {
  window.seenMessages.push({ origin: event.origin, data: JSON.stringify(event.data) });
});
window.probe = async function probe(vaultOrigin) {
  const found = {};
  async function attempt(name, action) {
    try {
      const value = await action();
      found[name] = { ok: true, value: value === undefined ? null : value };
    } catch (error) {
      found[name] = { ok: false, error: String((error && error.name) || error) };
    }
  }
  const frame = document.querySelector('iframe');
  await attempt('ownLocalStorage', () => JSON.stringify(Object.entries(localStorage)));
  await attempt('ownSessionStorage', () => JSON.stringify(Object.entries(sessionStorage)));
  await attempt('ownCookies', () => document.cookie);
  await attempt('ownIndexedDB', async () => JSON.stringify(await indexedDB.databases()));
  await attempt('frameContentDocument', () => frame.contentDocument);
  await attempt('frameLocalStorage', () =>
    JSON.stringify(Object.entries(frame.contentWindow.localStorage)));
  await attempt('frameDocumentCookie', () => frame.contentWindow.document.cookie);
  await attempt('frameBody', () => frame.contentWindow.document.body.innerHTML);
  await attempt('fetchEvents', async () => {
    const response = await fetch(vaultOrigin + '/api/events', { credentials: 'include' });
    return response.text();
  });
  await attempt('popupLocalStorage', async () => {
    const popup = window.open(vaultOrigin + '/visitor/', '_blank');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    try {
      return JSON.stringify(Object.entries(popup.localStorage));
    } finally {
      popup.close();
    }
  });
  return found;
};
</script>
"""


class _HostHandler(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        page = self.pages.get(path)
        if page is None:
            self.send_error(404)
            return
        body = page.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@dataclass
class HostSite:
    """A site on another origin that embeds the tracker.

    Attributes:
        url: Its origin.
    """

    url: str


@contextmanager
def host_site(server: LiveServer) -> Iterator[HostSite]:
    """Serve the host pages on another port of 127.0.0.1.

    Pages: ``/start.html`` (no tracker; links to the article), ``/article.html`` (the
    tracker), ``/canonical.html`` (the tracker and a canonical link), ``/hostile.html`` (the
    tracker and a script that tries to reach the vault's secrets).
    """
    script = html.escape(f"{server.url}/script.js")
    account = html.escape(server.account_id)

    def tracked(title: str, head: str = "", body: str = "") -> str:
        return _TRACKED_PAGE.format(
            title=title, head=head, body=body, script=script, account=account
        )

    handler = type(
        "HostHandler",
        (_HostHandler,),
        {
            "pages": {
                "/start.html": _START_PAGE,
                "/article.html": tracked("Article"),
                "/canonical.html": tracked(
                    "Canonical", head='<link rel="canonical" href="/articles/the-one">'
                ),
                "/hostile.html": tracked("Hostile", head=_HOSTILE_SCRIPT),
            }
        },
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield HostSite(f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
