# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The ``offen-core export`` and ``offen-core report`` commands, from a database and a server."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from opsync_helpers import OperatorServer, Site

from offen_core.cli import main
from offen_core.client import http as http_module
from offen_core.operator.export import CSV_COLUMNS, read_jsonl
from offen_core.server import ServerConfig
from offen_core.server.mail import OutboxMailer
from offen_core.server.operators import Operators
from offen_core.storage import Store
from offen_core.testing import KeyPairPool

SECRET = b"operator-cli-tests-secret-012345"
EMAIL, PASSWORD = "cli@example.org", "the cli password"


@pytest.fixture
def flows(store: Store, pool: KeyPairPool, tmp_path: Path) -> Operators:
    """An instance set up with one operator and the account "blog" with a few events."""
    operators = Operators(
        store,
        ServerConfig(SECRET, secure_context=False),
        mailer=OutboxMailer(str(tmp_path / "outbox")),
        key_pair_factory=pool,
    )
    operators.setup({"accountName": "blog", "emailAddress": EMAIL, "password": PASSWORD})
    (account,) = store.list_accounts()
    site = Site.existing(store, account)
    now = datetime.now(UTC)
    for days in range(3):
        site.send(site.visitor(), 2, at=now - timedelta(days=days, hours=1))
    return operators


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, store: Store) -> str:
    """The environment of a command: credentials, secret; gives the database URL."""
    monkeypatch.setenv("OFFEN_CORE_EMAIL", EMAIL)
    monkeypatch.setenv("OFFEN_CORE_PASSWORD", PASSWORD)
    monkeypatch.setenv("OFFEN_CORE_SECRET", base64.b64encode(SECRET).decode())
    return store.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def served(flows: Operators, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Route the command's HTTP client to an in-process server; gives its URL."""
    app = OperatorServer(flows)
    real = http_module.OffenClient
    monkeypatch.setattr(
        http_module,
        "OffenClient",
        lambda url: real(url, transport=httpx.WSGITransport(app=app)),
    )
    return "http://testserver"


def test_export_writes_jsonl_from_a_database(
    flows: Operators, env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "events.jsonl"
    status = main(["export", "--database-url", env, "--workers", "1", "--output", str(target)])

    captured = capsys.readouterr()
    assert status == 0
    snapshot = read_jsonl(target.read_text(encoding="utf-8").splitlines())
    assert len(snapshot.events) == 6
    assert snapshot.account_name == "blog"
    assert "exported 6 event(s), 0 deletion(s); next cursor: " in captured.err
    assert not (tmp_path / "events.jsonl.part").exists()
    assert PASSWORD not in captured.out + captured.err


def test_export_writes_csv_from_a_server(
    served: str, env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["export", "--server", served, "--format", "csv", "--workers", "1"])

    captured = capsys.readouterr()
    assert status == 0
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 7


def test_report_prints_tables_and_writes_json_and_html(
    flows: Operators, env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC).isoformat()
    json_file, html_file = tmp_path / "report.json", tmp_path / "report.html"
    status = main(
        [
            "report",
            "--database-url",
            env,
            "--workers",
            "1",
            "--now",
            now,
            "--tz",
            "Europe/Berlin",
            "--json",
            str(json_file),
            "--html",
            str(html_file),
        ]
    )

    captured = capsys.readouterr()
    assert status == 0
    assert "Report for blog (7 days, Europe/Berlin)" in captured.out
    data = json.loads(json_file.read_text(encoding="utf-8"))
    assert data["uniqueUsers"] == 3
    assert data["events"] == 6
    assert data["undecryptable"] == {}
    assert data["account"]["name"] == "blog"
    assert html_file.read_text(encoding="utf-8").count("<svg") == 2


def test_report_from_a_server_lists_the_same_visitors(
    served: str, env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["report", "--server", served, "--workers", "1", "--json", "-"])
    captured = capsys.readouterr()
    assert status == 0
    assert json.loads(captured.out)["uniqueUsers"] == 3


def test_a_wrong_password_fails_without_printing_it(
    flows: Operators,
    env: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OFFEN_CORE_PASSWORD", "not the password")
    status = main(["export", "--database-url", env])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err.startswith("offen-core export: ")
    assert "not the password" not in captured.err + captured.out


def test_a_database_login_needs_the_server_secret(
    flows: Operators,
    env: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("OFFEN_CORE_SECRET")
    assert main(["report", "--database-url", env]) == 1
    assert "OFFEN_CORE_SECRET" in capsys.readouterr().err


def test_list_accounts_and_bad_arguments(
    flows: Operators, env: str, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    (account,) = store.list_accounts()
    assert main(["export", "--database-url", env, "--list-accounts"]) == 0
    assert capsys.readouterr().out == f"{account.account_id}  blog\n"

    assert main(["report", "--database-url", env, "--range", "many"]) == 1
    assert "--range" in capsys.readouterr().err
    assert main(["report", "--database-url", env, "--now", "yesterday-ish"]) == 1
    assert "--now" in capsys.readouterr().err


def test_an_unreachable_server_is_reported_as_an_error(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    real = http_module.OffenClient
    monkeypatch.setattr(
        http_module, "OffenClient", lambda url: real(url, transport=httpx.MockTransport(refuse))
    )
    assert main(["report", "--server", "http://nowhere.invalid"]) == 1
    assert "cannot be reached" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_draws_on_a_terminal_only() -> None:
    from offen_core.operator import Progress
    from offen_core.operator._cli import ProgressBar

    terminal = _Terminal()
    bar = ProgressBar(terminal, delay=0.0)
    bar(Progress(1, 0, 0, 0, 250, 1000))
    bar.finish()
    assert "250/1,000 secrets" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n")

    piped = io.StringIO()
    quiet = ProgressBar(piped, delay=0.0)
    quiet(Progress(1, 10, 0, 0, 0, 0))
    quiet.finish()
    assert piped.getvalue() == ""
