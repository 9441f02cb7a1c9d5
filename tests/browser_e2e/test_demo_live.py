# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The demo as a person runs it: ``python -m examples.demo``, a browser, ``offen-core report``."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from browser_helpers import FRAME_TITLE, wait_until

from offen_core.client.http import OffenClient
from offen_core.operator import AccountState, HttpSource, Operator

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
VISITORS = 30


@dataclass
class RunningDemo:
    """The demo's process and what it printed."""

    process: subprocess.Popen[str]
    url: str
    email: str
    password: str
    account_id: str
    database: Path
    pageviews: int


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))


def _field(text: str, label: str) -> str:
    found = re.search(rf"^  {re.escape(label)} +(\S+)$", text, re.MULTILINE)
    assert found is not None, f"the demo printed no {label}:\n{text}"
    return found.group(1)


@pytest.fixture
def demo() -> Iterator[RunningDemo]:
    """``python -m examples.demo`` from the root of the clone, serving until the test ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.demo", "--visitors", str(VISITORS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    printed: list[str] = []
    try:
        while not (printed and printed[-1].startswith("serving ")):
            printed.append(lines.get(timeout=60))
        text = "\n".join(printed)
        seeded = re.search(r"seeded (\d+) visitors, \d+ sessions and (\d+) encrypted", text)
        assert seeded is not None
        assert int(seeded.group(1)) == VISITORS
        database = next(line.strip() for line in printed if line.strip().startswith("sqlite:"))
        yield RunningDemo(
            process=process,
            url=_field(text, "demo site (counts your visits)").removesuffix("/demo/"),
            email=_field(text, "operator email"),
            password=_field(text, "operator password"),
            account_id=_field(text, "account id"),
            database=Path(database.removeprefix("sqlite:///")),
            pageviews=int(seeded.group(2)),
        )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=10)
        process.stdout.close()


def test_a_visit_to_the_demo_page_adds_encrypted_pageviews_the_report_counts(
    demo: RunningDemo, context: Any, tmp_path: Path
) -> None:
    assert demo.database.is_file()
    page = context.new_page()
    page.goto(f"{demo.url}/demo/")
    page.frame_locator(f'iframe[title="{FRAME_TITLE}"]').get_by_role("button", name="Allow").click()
    page.get_by_role("button", name="Go to /demo/features").click()

    with OffenClient(demo.url) as client, Operator(client.login(demo.email, demo.password)) as op:
        source = HttpSource(client, demo.account_id)
        state = AccountState(demo.account_id)

        def all_there() -> bool:
            op.sync(source, state)
            return len(state) == demo.pageviews + 2

        wait_until(all_there, what="the two live pageviews")
        assert state.undecryptable() == []

    # Seeded events lie in the past: the two newest event ids are the visit of this test.
    first, second = (
        event.payload for event in sorted(state.events(), key=lambda event: event.event_id)[-2:]
    )
    assert first.href == f"{demo.url}/demo/"
    assert second.href == f"{demo.url}/demo/features"
    assert first.session_id == second.session_id
    assert isinstance(first.pageload, int)
    assert second.pageload is None  # a History API navigation
    assert first.geo == second.geo == "DE"

    # The operator's report over HTTP counts every seeded and every live pageview.
    report_file = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "offen_core.cli",
            "report",
            "--server",
            demo.url,
            "--email",
            demo.email,
            "--account",
            demo.account_id,
            "--workers",
            "1",
            "--json",
            str(report_file),
            "--quiet",
        ],
        env={**os.environ, "OFFEN_CORE_PASSWORD": demo.password},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(report_file.read_text())
    assert report["events"] == demo.pageviews + 2
    assert report["undecryptable"] == {}

    # Ctrl-C stops the demo and takes its temporary database with it.
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=30) == 0
    assert not demo.database.exists()
