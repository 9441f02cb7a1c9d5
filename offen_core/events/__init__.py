# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Event models, ids and validation as Offen defines them.

An event is what the whole system exists to carry: a pageview that the client encrypts, the
server stores as an opaque cipher string under a ULID event id, and the operator decrypts and
counts. This module gives the three roles one shared definition of it:

- ids: `new_ulid`, `new_ulid_prefix`, `ulid_at`, `min_ulid_at`, `ulid_time`, `is_ulid`;
- limits that protect the server: `MAX_PAYLOAD_LENGTH` and its siblings;
- validators for the plain values of the envelope (`validate_account_id` and friends), each
  returning the normalised value or raising `InvalidInputError` that names the field and rule;
- pydantic models: `PageView` (the payload a client encrypts), `EncryptedEvent` (what a client
  posts), `StoredEvent` and `Tombstone` (what the server serves) and `DecryptedEvent` (what an
  operator works with), with `parse_page_view` and `serialize_page_view` for payload bytes.

JSON in and out uses Offen's camelCase member names; Python attributes are snake_case, and
models accept either name. Every model is frozen, and every validation failure, also from a
constructor call, raises `InvalidInputError` naming the field (camelCase, dotted for a nested
one such as ``payload.href``) and the rule.

It imports nothing of the library but `offen_core.errors`; it never decrypts anything.
"""

from offen_core.events._ids import (
    UlidGenerator,
    is_ulid,
    min_ulid_at,
    new_ulid,
    new_ulid_prefix,
    ulid_at,
    ulid_time,
)
from offen_core.events._models import (
    DecryptedEvent,
    EncryptedEvent,
    PageView,
    StoredEvent,
    Tombstone,
    parse_page_view,
    serialize_page_view,
)
from offen_core.events._validators import (
    MAX_ACCOUNT_NAME_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_ENCRYPTED_SECRET_LENGTH,
    MAX_PAYLOAD_LENGTH,
    MAX_URL_LENGTH,
    validate_account_id,
    validate_account_name,
    validate_encrypted_secret,
    validate_event_id,
    validate_payload_cipher,
    validate_secret_id,
)

__all__ = [
    "MAX_ACCOUNT_NAME_LENGTH",
    "MAX_EMAIL_LENGTH",
    "MAX_ENCRYPTED_SECRET_LENGTH",
    "MAX_PAYLOAD_LENGTH",
    "MAX_URL_LENGTH",
    "DecryptedEvent",
    "EncryptedEvent",
    "PageView",
    "StoredEvent",
    "Tombstone",
    "UlidGenerator",
    "is_ulid",
    "min_ulid_at",
    "new_ulid",
    "new_ulid_prefix",
    "parse_page_view",
    "serialize_page_view",
    "ulid_at",
    "ulid_time",
    "validate_account_id",
    "validate_account_name",
    "validate_encrypted_secret",
    "validate_event_id",
    "validate_payload_cipher",
    "validate_secret_id",
]
