# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""What Offen's vault does for a visitor, in Python, and a client for servers speaking its API.

The client role may see its own events only. This package makes a user secret (an AES-128 key
shaped like WebCrypto's), wraps it with an account's public key for the exchange, encrypts
pageviews exactly as the vault does, and decrypts the visitor's own events:

- `create_user_secret`, `user_secret_jwk`, `wrap_user_secret`;
- `encrypt_page_view`, `decrypt_own_event`.

These need only the library's required dependencies. The HTTP client that drives a server over
Offen's routes lives in `offen_core.client.http` and needs ``httpx`` (the ``http`` extra:
``pip install offen-core[http]``); importing ``offen_core.client`` does not import it.
"""

from offen_core.client._vault import (
    create_user_secret,
    decrypt_own_event,
    encrypt_page_view,
    user_secret_jwk,
    wrap_user_secret,
)

__all__ = [
    "create_user_secret",
    "decrypt_own_event",
    "encrypt_page_view",
    "user_secret_jwk",
    "wrap_user_secret",
]
