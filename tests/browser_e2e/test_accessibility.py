# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""axe-core in Chromium: no serious or critical violation on the banner and the pages.

axe-core (pinned in this folder's package.json) is added to every frame as an init script,
which the pages' Content-Security-Policy does not apply to, and `axe.run` is called in the
frame under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import FRAME_TITLE, HostSite, LiveServer, wait_until

pytestmark = pytest.mark.browser

_RUN_AXE = """async () => {
  const results = await axe.run(document, { resultTypes: ['violations'] });
  return {
    passes: results.passes.length,
    violations: results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.join(' ')),
    })),
  };
}"""


@pytest.fixture
def axe_context(context: Any, axe_script: Path) -> Any:
    """The test's browser context with axe-core in every frame."""
    context.add_init_script(path=str(axe_script))
    return context


def _serious(frame: Any) -> list[dict[str, Any]]:
    assert frame.evaluate("typeof axe.run") == "function"
    results = frame.evaluate(_RUN_AXE)
    assert results["passes"] > 0  # axe did check something
    return [item for item in results["violations"] if item["impact"] in {"serious", "critical"}]


def _banner_page(context: Any, server: LiveServer, url: str) -> tuple[Any, Any]:
    page = context.new_page()
    page.goto(url)
    page.frame_locator(f'iframe[title="{FRAME_TITLE}"]').get_by_role(
        "button", name="Allow"
    ).wait_for(state="visible")
    vault = next(frame for frame in page.frames if frame.url.startswith(f"{server.url}/vault/"))
    return page, vault


def test_the_consent_banner_has_no_serious_accessibility_violation(
    axe_context: Any, server: LiveServer, host: HostSite
) -> None:
    page, vault = _banner_page(axe_context, server, f"{host.url}/article.html")
    iframe = page.locator(f'iframe[title="{FRAME_TITLE}"]')
    assert iframe.bounding_box()["height"] > 50  # shown, so colours and sizes are checked

    assert _serious(vault) == []


def test_the_demo_page_with_its_banner_has_no_serious_accessibility_violation(
    axe_context: Any, server: LiveServer
) -> None:
    page, _ = _banner_page(axe_context, server, f"{server.url}/demo/")

    assert _serious(page.main_frame) == []


def test_the_visitor_page_has_no_serious_accessibility_violation(
    axe_context: Any, server: LiveServer, host: HostSite
) -> None:
    page, _ = _banner_page(axe_context, server, f"{host.url}/article.html")
    page.frame_locator(f'iframe[title="{FRAME_TITLE}"]').get_by_role("button", name="Allow").click()
    visitor = axe_context.new_page()
    visitor.goto(f"{server.url}/visitor/")
    status = visitor.locator("#events-status")
    wait_until(lambda: "1 event " in status.inner_text(), what="the event to be listed")
    assert visitor.locator("#events-table").is_visible()

    assert _serious(visitor.main_frame) == []

    # The state after opting out (other buttons, other text) too.
    visitor.get_by_role("button", name="Opt out and delete my data").click()
    wait_until(lambda: "opted out" in status.inner_text(), what="the opt-out")
    assert _serious(visitor.main_frame) == []


def test_the_operator_page_has_no_serious_accessibility_violation(
    axe_context: Any, recovery_server: LiveServer
) -> None:
    invitee = "checks.accessibility@example.org"
    page = axe_context.new_page()
    page.goto(recovery_server.invite(invitee))
    page.get_by_role("button", name="Join").wait_for(state="visible")

    assert _serious(page.main_frame) == []

    # With an error next to a field.
    page.get_by_label("Email address").fill(invitee)
    page.get_by_label("New password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat the new password").fill("another long password")
    page.get_by_role("button", name="Join").click()
    page.get_by_role("alert").filter(has_text="differ").wait_for()
    assert _serious(page.main_frame) == []

    # Joined, with the recovery key on show.
    page.get_by_label("Repeat the new password").fill("a long enough password")
    page.get_by_role("button", name="Join").click()
    page.locator("#recovery-key").wait_for(state="visible")
    assert _serious(page.main_frame) == []
