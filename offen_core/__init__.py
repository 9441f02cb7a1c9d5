# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Privacy-analytics primitives that speak the formats of Offen Fair Web Analytics.

Pageviews are encrypted in the visitor's browser, the server holds only ciphertext,
visitors can see and delete their data, operators unlock their data with their password,
and everything expires. The subpackages hold the pieces:

- `offen_core.crypto`: Offen's cipher strings, AES-GCM, RSA-OAEP, argon2id and hashes.
- `offen_core.events`: the event models, ids and validation.
- `offen_core.storage`: Offen's schema and the Store over SQLite, PostgreSQL and MySQL.
- `offen_core.ratelimit`: throttles that hold across processes.
- `offen_core.errors`: the exception hierarchy, rooted at `OffenError`.
"""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
