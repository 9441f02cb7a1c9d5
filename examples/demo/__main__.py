# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""``python -m examples.demo``: see `examples.demo.runner`."""

from examples.demo.runner import main

raise SystemExit(main())
