# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Example servers over `offen_core.server`: FastAPI (``examples.asgi``), Flask (``examples.wsgi``).

They run from a clone of the repository and are not part of the installed package.
"""
