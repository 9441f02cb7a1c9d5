# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Hourly expiry in the background, as Offen's single-node mode runs it.

Unlike Offen's cron, a failed run does not end the schedule: it is logged (the error class
only; messages of database drivers can hold SQL) and the next run comes at its time.
"""

from __future__ import annotations

import logging
import threading

from offen_core.errors import OffenError
from offen_core.storage import ExpiryReport, Retention, Store

__all__ = ["ExpiryThread"]

_log = logging.getLogger(__name__)


class ExpiryThread(threading.Thread):
    """A daemon thread that runs `Store.expire` at start and then every ``interval`` seconds.

    Args:
        store: The Store.
        retention: The instance's retention period.
        interval: Seconds between runs; must be positive.

    Raises:
        ValueError: ``interval`` is not positive.
    """

    def __init__(self, store: Store, retention: Retention | str, interval: float = 3600.0) -> None:
        if not interval > 0:
            raise ValueError("the expiry interval must be a positive number of seconds")
        super().__init__(name="offen-expiry", daemon=True)
        self._store = store
        self._retention = retention
        self._interval = interval
        self._stopped = threading.Event()
        self.runs = 0
        self.failures = 0

    def run_once(self) -> ExpiryReport | None:
        """Expire once, logging instead of raising.

        Returns:
            The report, or ``None`` when the run failed.
        """
        self.runs += 1
        try:
            report = self._store.expire(self._retention)
        except (OffenError, OSError) as error:
            self.failures += 1
            _log.warning("expiry failed (%s); it runs again later", type(error).__name__)
            return None
        if report.events_expired or report.tombstones_pruned:
            _log.info(
                "expired %d events and %d tombstones",
                report.events_expired,
                report.tombstones_pruned,
            )
        return report

    def run(self) -> None:
        """Run at start, then every interval until `stop` is called."""
        while not self._stopped.is_set():
            self.run_once()
            self._stopped.wait(self._interval)

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the schedule and wait for a run in progress to end.

        Args:
            timeout: Seconds to wait for the thread.
        """
        self._stopped.set()
        if self.is_alive():
            self.join(timeout)
