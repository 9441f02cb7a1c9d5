# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The demo's traffic plan and seeding, without a browser (they run wherever pytest runs)."""

from __future__ import annotations

import itertools
import os
import random
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from examples.common.service import Service
from examples.common.settings import Settings
from examples.demo import plan_traffic, prepare_demo, seed_account
from examples.demo.traffic import (
    CAMPAIGN_PAGES,
    COUNTRIES,
    PAGES,
    REFERRERS,
    PlannedVisitor,
)
from offen_core.errors import ConflictError, InvalidCredentialsError, UnknownAccountError
from offen_core.events import parse_page_view, ulid_time
from offen_core.operator import Operator, StoreSource
from offen_core.server import Operators, ServerConfig, load_server_secret
from offen_core.storage import Store
from offen_core.testing import shared_key_pair_pool

Plan = list[PlannedVisitor]
ROOT = Path(__file__).resolve().parents[2]
DEMO = (sys.executable, "-m", "examples.demo")
ORIGIN = "http://127.0.0.1:8000"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RETENTION = timedelta(days=186)


@pytest.fixture(scope="module")
def big_plan() -> Plan:
    """A large plan from a fixed seed: large enough that every choice shows up."""
    return plan_traffic(random.Random(7), 3000, origin=ORIGIN, now=NOW, retention=RETENTION)


def test_the_plan_is_reproducible_from_a_seed() -> None:
    first = plan_traffic(random.Random(3), 20, origin=ORIGIN, now=NOW, retention=RETENTION)
    again = plan_traffic(random.Random(3), 20, origin=ORIGIN, now=NOW, retention=RETENTION)
    other = plan_traffic(random.Random(4), 20, origin=ORIGIN, now=NOW, retention=RETENTION)
    assert first == again
    assert first != other


def test_every_page_referrer_and_country_can_be_drawn(big_plan: Plan) -> None:
    sessions = [session for visitor in big_plan for session in visitor.sessions]
    hrefs = {view.href for session in sessions for view in session.pageviews}
    assert {ORIGIN + page for page, _ in PAGES + CAMPAIGN_PAGES} == hrefs
    landing_referrers = {session.pageviews[0].referrer for session in sessions}
    assert {referrer for referrer, _ in REFERRERS} == landing_referrers
    assert {country for country, _ in COUNTRIES} == {visitor.geo for visitor in big_plan}
    # Campaign pages are landing pages only.
    campaign = {ORIGIN + page for page, _ in CAMPAIGN_PAGES}
    later = {view.href for session in sessions for view in session.pageviews[1:]}
    assert later.isdisjoint(campaign)


def test_is_mobile_is_a_fair_coin_with_the_given_odds(big_plan: Plan) -> None:
    mobile = Counter(visitor.is_mobile for visitor in big_plan)
    assert set(mobile) == {True, False}
    assert 0.33 < mobile[True] / len(big_plan) < 0.43
    for visitor in big_plan[:50]:
        assert {payload["isMobile"] for _, payload in visitor.payloads()} == {visitor.is_mobile}


def test_times_fall_in_the_retention_period_with_realistic_gaps(big_plan: Plan) -> None:
    session_counts = Counter(len(visitor.sessions) for visitor in big_plan)
    assert session_counts[1] > session_counts[2] > 0
    assert max(session_counts) >= 5
    view_counts = Counter(len(s.pageviews) for visitor in big_plan for s in visitor.sessions)
    assert view_counts[1] > view_counts[2] > 0
    assert max(view_counts) >= 8
    for visitor in big_plan:
        previous_end = None
        for session in visitor.sessions:
            times = [view.at for view in session.pageviews]
            assert times[0] > NOW - RETENTION
            assert times[-1] < NOW
            gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
            assert all(timedelta(seconds=3) <= gap <= timedelta(minutes=20) for gap in gaps)
            if previous_end is not None:
                assert times[0] - previous_end >= timedelta(minutes=45)
            previous_end = times[-1]
    user_ids = [visitor.user_id for visitor in big_plan]
    session_ids = [s.session_id for visitor in big_plan for s in visitor.sessions]
    assert len(set(user_ids)) == len(user_ids)
    assert len(set(session_ids)) == len(session_ids)


def test_referrers_and_pageloads_follow_how_browsers_report_them(big_plan: Plan) -> None:
    links = spa = 0
    for visitor in big_plan:
        for session in visitor.sessions:
            first, *rest = session.pageviews
            assert first.pageload is not None
            assert 80 <= first.pageload <= 15000
            previous = first
            for view in rest:
                assert view.href != previous.href
                if view.pageload is None:
                    spa += 1  # a History API navigation keeps the document's referrer
                    assert view.referrer == previous.referrer
                else:
                    links += 1  # a link: the referrer is the page it was on, without query
                    assert view.referrer == previous.href.split("?", 1)[0]
                previous = view
            for view in session.pageviews:
                assert urlsplit(view.referrer).query == ""
    assert links > spa > 0


def test_payloads_are_valid_offen_pageviews_timed_like_their_events(big_plan: Plan) -> None:
    for visitor in big_plan[:100]:
        for at, payload in visitor.payloads():
            view = parse_page_view(payload)
            assert view.timestamp == at
            assert view.geo == visitor.geo
            assert payload["timestamp"].endswith("Z")
            assert len(payload["timestamp"]) == 24


def test_the_plan_refuses_impossible_parameters() -> None:
    rng = random.Random(1)
    with pytest.raises(ValueError, match="negative"):
        plan_traffic(rng, -1, origin=ORIGIN, now=NOW, retention=RETENTION)
    with pytest.raises(ValueError, match="aware"):
        plan_traffic(rng, 1, origin=ORIGIN, now=NOW.replace(tzinfo=None), retention=RETENTION)
    with pytest.raises(ValueError, match="retention"):
        plan_traffic(rng, 1, origin=ORIGIN, now=NOW, retention=timedelta(hours=2))
    assert plan_traffic(rng, 0, origin=ORIGIN, now=NOW, retention=RETENTION) == []


def test_seeded_events_decrypt_for_the_operator_to_exactly_the_plan(tmp_path: Path) -> None:
    demo = prepare_demo(
        "http://127.0.0.1:9",
        tmp_path / "demo.db",
        visitors=25,
        rng=random.Random(11),
        key_pair_factory=shared_key_pair_pool(),
    )
    try:
        store = demo.service.store
        login = demo.service.operators.login({"username": demo.email, "password": demo.password})
        with Operator(login, workers=1) as operator:
            state = operator.sync(StoreSource(store, demo.account_id))
        assert state.undecryptable() == []
        assert len(state) == demo.seeded.pageviews > 25
        assert demo.seeded.visitors == 25

        plan = plan_traffic(
            random.Random(11),
            25,
            origin=demo.url,
            now=datetime.now(UTC),
            retention=demo.service.config.retention_period,
        )
        planned_sessions = {s.session_id for visitor in plan for s in visitor.sessions}
        decrypted = state.events()
        assert {event.payload.session_id for event in decrypted} == planned_sessions
        for event in decrypted:
            # The event id was minted at the pageview's time (the import path).
            assert ulid_time(event.event_id) == event.payload.timestamp
            assert event.payload.href is not None
            assert event.payload.href.startswith(demo.url)
        # Seeding again into a set-up instance is refused by the setup flow.
        with pytest.raises(ConflictError, match="set up already"):
            demo.service.operators.setup(
                {"accountName": "x", "emailAddress": "x@example.org", "password": "abcdefghij"}
            )
    finally:
        demo.service.close()


def test_seeding_refuses_an_unknown_account(tmp_path: Path) -> None:
    settings = Settings(secret=b"0" * 32, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    service = Service(settings, key_pair_factory=shared_key_pair_pool())
    service.start()
    try:
        with pytest.raises(UnknownAccountError):
            seed_account(
                service.store,
                service.visitors,
                "9b63c4d8-65c0-438c-9d30-cc4b01173393",
                [],
            )
    finally:
        service.close()


def _field(out: str, label: str) -> str:
    found = re.search(rf"^  {re.escape(label)} +(\S+)$", out, re.MULTILINE)
    assert found is not None, f"the demo printed no {label}"
    return found.group(1)


def test_the_seed_only_command_sets_up_seeds_prints_and_cleans_up() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--seed-only", "--visitors", "40"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "seeded 40 visitors" in out
    password = _field(out, "operator password")
    assert len(password) >= 8
    assert _field(out, "operator email") == "demo@example.org"
    database = next(line.strip() for line in out.splitlines() if line.strip().startswith("sqlite"))
    assert not Path(database.removeprefix("sqlite:///")).exists()  # the folder is gone
    assert "offen-core report --server http://127.0.0.1:" in out
    assert "serving" not in out


def test_a_kept_database_serves_the_operator_again_with_the_same_secret(tmp_path: Path) -> None:
    kept = tmp_path / "kept.db"
    secret = "c2VjcmV0LW9mLXRoZS1kZW1vLWluc3RhbmNlLTEyMzQ="
    done = subprocess.run(
        [*DEMO, "--seed-only", "--visitors", "5", "--database", str(kept)],
        cwd=ROOT,
        env={**os.environ, "OFFEN_CORE_SECRET": secret},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "database (kept)" in done.stdout
    password = _field(done.stdout, "operator password")

    store = Store(f"sqlite:///{kept}")
    try:
        operators = Operators(store, ServerConfig(load_server_secret(secret)))
        login = operators.login({"username": "demo@example.org", "password": password})
        assert [account.account_name for account in login.accounts] == ["Demo site"]
        other = ServerConfig(load_server_secret("b3RoZXItc2VjcmV0LW9mLXNpeHRlZW4tYnl0ZXM="))
        with pytest.raises(InvalidCredentialsError):
            Operators(store, other).login({"username": "demo@example.org", "password": password})
    finally:
        store.close()


def test_the_demo_refuses_a_bad_secret() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--seed-only"],
        cwd=ROOT,
        env={**os.environ, "OFFEN_CORE_SECRET": "short"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("OFFEN_CORE_SECRET ")


def test_the_demo_refuses_to_overwrite_a_database(tmp_path: Path) -> None:
    existing = tmp_path / "kept.db"
    existing.write_bytes(b"")
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--seed-only", "--database", str(existing)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "exists already" in done.stderr
