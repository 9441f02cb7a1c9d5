# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's encryption schemes: cipher strings, AES-GCM, RSA-OAEP, argon2id and hashes."""
