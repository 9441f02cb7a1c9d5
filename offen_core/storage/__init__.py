# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's relational schema and one Store over SQLite, PostgreSQL and MySQL."""
