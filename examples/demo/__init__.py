# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The one-command demo of the README: ``python -m examples.demo`` from the root of a clone.

It starts the FastAPI example on a temporary SQLite database, sets up an operator and an
account, seeds a few hundred visitors and prints where to look (docs/guides/demo.md):

- `plan_traffic` (`examples.demo.traffic`): made-up visitors, sessions and pageviews;
- `seed_account` (`examples.demo.seed`): stores them as browsers would have, encrypted;
- `prepare_demo` and `main` (`examples.demo.runner`): the set-up and the command.
"""

from examples.demo.runner import DEMO_ACCOUNT_NAME, DEMO_EMAIL, Demo, main, prepare_demo
from examples.demo.seed import SeedReport, seed_account
from examples.demo.traffic import PlannedPageview, PlannedSession, PlannedVisitor, plan_traffic

__all__ = [
    "DEMO_ACCOUNT_NAME",
    "DEMO_EMAIL",
    "Demo",
    "PlannedPageview",
    "PlannedSession",
    "PlannedVisitor",
    "SeedReport",
    "main",
    "plan_traffic",
    "prepare_demo",
    "seed_account",
]
