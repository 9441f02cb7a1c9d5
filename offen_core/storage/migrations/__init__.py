# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Alembic migrations of offen_core's schema, run by `offen_core.storage.migrate`.

The first revision creates Offen's schema; later revisions only add columns, indexes and
tables. Alembic records the revision in the table ``offen_core_version``.
"""
