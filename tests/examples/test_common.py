# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The framework-independent parts: settings, query and cookie reading, log lines, expiry."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examples.common.accesslog import DropServerAccessLog, access_line, configure_logging
from examples.common.expiry import ExpiryThread
from examples.common.headers import PageKind, page_kind, response_headers
from examples.common.pages import BROWSER_DIR, Pages, is_operator_page
from examples.common.settings import PREFIX, VARIABLES, Settings
from examples.common.wire import parse_cookie_header, parse_query
from offen_core.crypto import hash_fast, new_fast_salt
from offen_core.errors import InvalidInputError
from offen_core.server.mail import invite_link, reset_link
from offen_core.server.tokens import MAX_TOKEN_LENGTH, TokenSigner
from offen_core.storage import Account, ImportedEvent, Store

SECRET_TEXT = base64.b64encode(b"sixteen byte key" * 2).decode()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "guides" / "examples.md"


def _env(**values: str) -> dict[str, str]:
    return {PREFIX + name: value for name, value in values.items()}


def test_settings_need_a_secret() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Settings.from_env({})

    assert caught.value.field == "OFFEN_CORE_SECRET"


def test_development_mode_draws_a_secret_per_process() -> None:
    first = Settings.from_env(_env(DEVELOPMENT="1"))
    second = Settings.from_env(_env(DEVELOPMENT="true"))

    assert len(first.secret) == 32
    assert first.secret != second.secret


def test_settings_read_offens_base64_secret_and_defaults() -> None:
    settings = Settings.from_env(_env(SECRET=SECRET_TEXT))

    assert settings.secret == b"sixteen byte key" * 2
    assert settings.database_url == "sqlite:///offen.db"
    assert settings.retention == "6months"
    assert settings.secure_context is False
    assert settings.throttle_wait_cap == 5.0
    assert settings.expiry_interval == 3600.0
    assert "secret" not in repr(settings).lower().replace("secret_", "")


def test_settings_read_every_variable() -> None:
    settings = Settings.from_env(
        _env(
            SECRET=SECRET_TEXT,
            DATABASE_URL="postgresql://db/offen",
            RETENTION="30days",
            BASE_URL="https://analytics.example",
            TRUSTED_PROXIES="10.0.0.0/8, ::1",
            FORWARDED_HEADER="Forwarded",
            THROTTLE_WAIT_CAP="2.5",
            EXPIRY_INTERVAL="0",
            RATELIMIT_STORAGE="redis://127.0.0.1:6379/0",
            SMTP_HOST="mail.example",
            SMTP_PORT="465",
            SMTP_SECURITY="TLS",
            ACCESS_LOG="off",
        )
    )

    assert settings.secure_context is True
    assert settings.public_tls is True
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1")
    assert settings.forwarded_header == "forwarded"
    assert settings.throttle_wait_cap == 2.5
    assert settings.expiry_interval == 0
    assert settings.smtp_port == 465
    assert settings.smtp_security == "tls"
    assert settings.access_log is False
    assert settings.server_config().retention_name == "30days"


def test_a_variable_may_come_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET_TEXT + "\n")

    settings = Settings.from_env(_env(SECRET_FILE=str(secret_file)))

    assert settings.secret == b"sixteen byte key" * 2
    with pytest.raises(InvalidInputError, match="not both"):
        Settings.from_env(_env(SECRET=SECRET_TEXT, SECRET_FILE=str(secret_file)))
    with pytest.raises(InvalidInputError):
        Settings.from_env(_env(SECRET_FILE=str(tmp_path / "missing")))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET", "c2hvcnQ="),
        ("SECRET", "not base64!"),
        ("RETENTION", "3days"),
        ("THROTTLE_WAIT_CAP", "-1"),
        ("THROTTLE_WAIT_CAP", "soon"),
        ("MIGRATE", "maybe"),
        ("FORWARDED_HEADER", "x-real-ip"),
        ("BASE_URL", "analytics.example"),
    ],
)
def test_invalid_variables_are_named(name: str, value: str) -> None:
    values = {"SECRET": SECRET_TEXT, name: value}

    with pytest.raises(InvalidInputError) as caught:
        Settings.from_env(_env(**values))

    assert caught.value.field == PREFIX + name


def test_every_variable_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")

    for name in VARIABLES:
        assert f"`{PREFIX}{name}`" in text


def test_query_and_cookies_are_read_first_value_first() -> None:
    assert parse_query(b"since=a&since=b&user=") == {"since": "a", "user": ""}
    assert parse_cookie_header('user=one; consent="allow"; user=two; broken; =x') == {
        "user": "one",
        "consent": "allow",
    }
    assert parse_cookie_header(None) == {}


def test_page_kinds_and_headers() -> None:
    assert page_kind("/vault/") is PageKind.VAULT
    assert page_kind("/demo/a/b") is PageKind.DEMO
    assert page_kind("/browser/x.js") is PageKind.ASSET
    assert page_kind("/api/events") is PageKind.API
    plain = dict(response_headers("/api/events", tls=False))
    secure = dict(response_headers("/vault/", tls=True))

    assert plain["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in plain
    assert secure["Strict-Transport-Security"].startswith("max-age=")
    assert "X-Frame-Options" not in secure


def test_operator_pages_are_never_framed_nor_cached() -> None:
    assert page_kind("/join/abc.def/") is PageKind.OPERATOR
    assert page_kind("/reset-password/abc") is PageKind.OPERATOR
    assert page_kind("/join/") is PageKind.API
    assert page_kind("/join/a/b/") is PageKind.API
    headers = dict(response_headers("/reset-password/abc/", tls=False))

    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


_PAGES = Pages()
_OPERATOR_HTML = (BROWSER_DIR / "operator.html").read_bytes()
_SIGNER = TokenSigner(b"a test secret of 32 bytes length")


@given(
    email=st.emails(),
    key=st.binary(min_size=32, max_size=32).map(lambda raw: base64.b64encode(raw).decode()),
)
def test_every_mailed_link_leads_to_the_operator_page(email: str, key: str) -> None:
    links = (
        invite_link("https://analytics.example", _SIGNER.issue_invite(email)),
        invite_link("https://analytics.example/", _SIGNER.issue_invite(email, key)),
        reset_link("https://analytics.example", _SIGNER.issue_reset(email, key, "stamp")),
    )
    for link in links:
        path = link.removeprefix("https://analytics.example")

        page = _PAGES.lookup(path)

        assert is_operator_page(path)
        assert page is not None
        assert page.body == _OPERATOR_HTML
        assert page.content_type.startswith("text/html")


_TOKEN_TEXT = st.text(
    alphabet="ABCXYZabcxyz0189-_.~", min_size=1, max_size=MAX_TOKEN_LENGTH
).filter(lambda text: text.strip(".") != "")


@given(token=_TOKEN_TEXT, prefix=st.sampled_from(["/join/", "/reset-password/"]))
def test_only_one_whole_token_segment_makes_an_operator_path(token: str, prefix: str) -> None:
    assert is_operator_page(f"{prefix}{token}/")
    assert is_operator_page(f"{prefix}{token}")
    assert not is_operator_page(f"{prefix}{token}/more/")
    assert not is_operator_page(f"{prefix}{token}//")
    assert not is_operator_page(f"{prefix}{token}{token}{'x' * MAX_TOKEN_LENGTH}/")
    assert not is_operator_page(f"{prefix.rstrip('/')}x/{token}/")
    assert _PAGES.lookup(f"{prefix}{token}/more/") is None


@pytest.mark.parametrize("segment", ["", ".", "..", "a b", "a%2Fb", "<script>", "ä"])
def test_segments_that_are_no_token_make_no_operator_path(segment: str) -> None:
    assert not is_operator_page(f"/join/{segment}/")
    assert _PAGES.lookup(f"/reset-password/{segment}/") is None


def test_access_line_hides_what_could_identify_or_forge() -> None:
    when = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)

    line = access_line("GET", '/api/x"\n- - - fake?user=1', "HTTP/1.1", 204, when)

    assert line == '- - - [03/Dec/2026:17:00:00 +0000] "GET /api/x%22%0A- - - fake HTTP/1.1" 200 -'
    assert access_line("POST", "/", "HTTP/2", 429, when).endswith('"POST / HTTP/2" 429 -')


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/join/eyJhIjoxfQ.c2ln/", "/join/-"),
        ("/join/eyJhIjoxfQ.c2ln", "/join/-"),
        ("/reset-password/eyJhIjoxfQ.c2ln/?x=1", "/reset-password/-"),
        ("/join/a/b/", "/join/-"),
        ("/join/", "/join/"),
        ("/joining/abc/", "/joining/abc/"),
    ],
)
def test_access_line_leaves_out_the_token_of_a_mailed_link(path: str, logged: str) -> None:
    line = access_line("GET", path, "HTTP/1.1", 200, datetime(2026, 12, 3, tzinfo=UTC))
    assert f'"GET {logged} HTTP/1.1"' in line
    assert "c2ln" not in line


def test_server_access_logs_are_dropped() -> None:
    configure_logging("INFO")
    uvicorn_log = logging.getLogger("uvicorn.access")

    assert any(isinstance(item, DropServerAccessLog) for item in uvicorn_log.filters)
    record = uvicorn_log.makeRecord(
        "uvicorn.access", logging.INFO, "x", 1, "%s", ("1.2.3.4",), None
    )
    assert uvicorn_log.filter(record) is False


# --- expiry -------------------------------------------------------------------------------


def test_expiry_run_removes_old_events(store: Store) -> None:
    salt = new_fast_salt()
    account = store.create_account(
        Account(
            account_id="7a3ec8d4-3c1e-4c55-9f0e-1f7e7b1f2c11",
            name="old site",
            public_key='{"kty":"RSA"}',
            encrypted_private_key="{1,} cHJpdmF0ZQ== bm9uY2Vub25jZQ==",
            user_salt=salt,
            created=datetime.now(UTC),
        )
    )
    secret_id = hash_fast("9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", salt)
    store.exchange_secret(
        account.account_id, secret_id, "{1,} c2VjcmV0", parked_secret_id=hash_fast("p", salt)
    )
    old = datetime.now(UTC) - timedelta(days=40)
    store.import_events(
        [ImportedEvent(account.account_id, secret_id, "{1,} YWJjZGVm Zm9v", old)] * 2
    )
    thread = ExpiryThread(store, "30days", interval=3600)

    report = thread.run_once()

    assert report is not None
    assert report.events_expired == 2
    assert thread.runs == 1
    assert thread.failures == 0


def test_a_failed_expiry_run_is_logged_and_the_schedule_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = Store("sqlite:////nonexistent-folder/for/offen.db")
    thread = ExpiryThread(broken, "6months", interval=3600)

    with caplog.at_level(logging.WARNING, logger="examples.common.expiry"):
        assert thread.run_once() is None
        assert thread.run_once() is None

    assert thread.failures == 2
    assert "expiry failed (DatabaseUnavailableError)" in caplog.text
    thread.start()
    thread.stop()
    assert not thread.is_alive()
    broken.close()


def test_expiry_interval_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError, match="positive"):
        ExpiryThread(store, "6months", interval=0)
