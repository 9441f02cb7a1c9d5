# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Throttles and rate limits that hold across processes, on the `limits` library's storages."""
