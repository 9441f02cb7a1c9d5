# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of offen_core.crypto against the bare primitives doing the same steps.

Measures, each against a baseline of bare ``cryptography`` / ``argon2-cffi`` calls run in the
same process:

- per-event decryption of PAGEVIEW payloads of about 260 bytes (parse the cipher string,
  base64, AES-GCM open, UTF-8, JSON), one key object per visitor;
- unwrapping a user secret with RSA-OAEP-SHA256 (4096 bits; 2048 with ``--smoke``);
- importing an account private key from its JWK, with and without full validation;
- ``derive_key`` and ``hash_password`` at Offen's algo 3.

Run ``python benchmarks/bench_crypto.py`` for the full measurement or add ``--smoke`` for a
run of a few seconds that only proves the script works. It needs no services.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from offen_core import crypto

_OAEP = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)


def _payload(rng: random.Random, session: str) -> bytes:
    """A PAGEVIEW payload shaped like Offen's, about 260 bytes of JSON."""
    page = rng.choice(["/", "/blog/", "/about/", "/pricing/", "/docs/getting-started/"])
    event = {
        "type": "PAGEVIEW",
        "href": f"https://www.example.com{page}",
        "title": "Example \u2013 a page title",
        "referrer": rng.choice(["", "https://duckduckgo.com/", "https://news.example.org/x"]),
        "pageload": rng.randint(200, 4000),
        "isMobile": rng.random() < 0.4,
        "timestamp": "2026-01-05T12:00:00.000Z",
        "sessionId": session,
        "geo": rng.choice(["DE", "FR", "US", "JP"]),
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def _best(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _pair(
    name: str,
    library: Callable[[], object],
    bare: Callable[[], object],
    count: int,
    repeats: int,
) -> tuple[str, float, float]:
    """Time both sides, interleaved so that drift hits both alike; per-operation seconds."""
    lib_times, bare_times = [], []
    for _ in range(repeats):
        bare_times.append(_best(bare, 1))
        lib_times.append(_best(library, 1))
    return name, min(lib_times) / count, min(bare_times) / count


def _format(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds * 1e6:9.2f} µs"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args(argv)

    events = 2_000 if args.smoke else 100_000
    visitors = 20 if args.smoke else 1_000
    rsa_bits = 2048 if args.smoke else 4096
    unwraps = 10 if args.smoke else 200
    argon_runs = 1  # one call per timing; the minimum over many rounds resists noise
    argon_rounds = 2 if args.smoke else 15
    imports = 1 if args.smoke else 5
    repeats = 2 if args.smoke else 5
    rng = random.Random(7)

    # Payloads: one AES-128 user secret per visitor, as Offen's browser code makes them.
    keys = [crypto.generate_symmetric_key() for _ in range(visitors)]
    sessions = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(visitors)]
    stream: list[tuple[int, str]] = []
    sizes = []
    for _ in range(events):
        visitor = rng.randrange(visitors)
        plaintext = _payload(rng, sessions[visitor])
        sizes.append(len(plaintext))
        stream.append((visitor, crypto.encrypt_symmetric(keys[visitor], plaintext)))
    bare_aeads = [AESGCM(key.to_bytes()) for key in keys]
    lib_stream = [(keys[v], c) for v, c in stream]
    bare_stream = [(bare_aeads[v], c) for v, c in stream]

    def decrypt_library(chunk: list[tuple[crypto.SymmetricKey, str]]) -> Callable[[], None]:
        def run() -> None:
            decrypt, loads = crypto.decrypt_symmetric, json.loads
            for key, cipher in chunk:
                loads(decrypt(key, cipher).decode("utf-8"))

        return run

    def decrypt_bare(chunk: list[tuple[AESGCM, str]]) -> Callable[[], None]:
        def run() -> None:
            b64decode, loads = base64.b64decode, json.loads
            for aead, cipher in chunk:
                _, sealed, nonce = cipher.split(" ")
                loads(aead.decrypt(b64decode(nonce), b64decode(sealed), None).decode("utf-8"))

        return run

    def decrypt_row() -> tuple[str, float, float]:
        # Timed in chunks of 1,000 events, each chunk's best round counting: a burst of load
        # from elsewhere on the machine then spoils one chunk's round, not the whole figure.
        lib_total = bare_total = 0.0
        for start in range(0, events, 1_000):
            _, lib, bare = _pair(
                "",
                decrypt_library(lib_stream[start : start + 1_000]),
                decrypt_bare(bare_stream[start : start + 1_000]),
                1,
                repeats,
            )
            lib_total, bare_total = lib_total + lib, bare_total + bare
        return "decrypt one event payload", lib_total / events, bare_total / events

    # RSA: one account key pair; user secrets are JWKs of AES-128 keys.
    pair = crypto.generate_key_pair(rsa_bits)
    wrapped = [
        crypto.encrypt_asymmetric(pair.public_key, json.dumps(keys[i % visitors].to_jwk()).encode())
        for i in range(unwraps)
    ]
    bare_private = pair.private_key._key

    def unwrap_library() -> None:
        for cipher in wrapped:
            crypto.SymmetricKey.from_jwk(crypto.decrypt_asymmetric(pair.private_key, cipher))

    def unwrap_bare() -> None:
        for cipher in wrapped:
            jwk = json.loads(bare_private.decrypt(base64.b64decode(cipher[5:]), _OAEP))
            AESGCM(base64.urlsafe_b64decode(jwk["k"] + "=="))

    private_jwk = pair.private_key.to_jwk()

    def _bare_numbers() -> rsa.RSAPrivateNumbers:
        def num(name: str) -> int:
            return int.from_bytes(base64.urlsafe_b64decode(private_jwk[name] + "=="), "big")

        public = rsa.RSAPublicNumbers(num("e"), num("n"))
        return rsa.RSAPrivateNumbers(
            num("p"), num("q"), num("d"), num("dp"), num("dq"), num("qi"), public
        )

    def import_library(validate: bool) -> Callable[[], None]:
        def run() -> None:
            for _ in range(imports):
                crypto.PrivateKey.from_jwk(private_jwk, validate=validate)

        return run

    def import_bare(validate: bool) -> Callable[[], None]:
        def run() -> None:
            for _ in range(imports):
                _bare_numbers().private_key(unsafe_skip_rsa_key_validation=not validate)

        return run

    # argon2id at Offen's algo 3.
    salt = crypto.new_kdf_salt()
    salt_bytes = base64.b64decode(salt[5:])

    def derive_library() -> None:
        for _ in range(argon_runs):
            crypto.derive_key("correct horse battery staple", salt)

    def derive_bare() -> None:
        for _ in range(argon_runs):
            hash_secret_raw(b"correct horse battery staple", salt_bytes, 4, 16384, 4, 32, Type.ID)

    def hash_library() -> None:
        for _ in range(argon_runs):
            crypto.hash_password("correct horse battery staple")

    def hash_bare() -> None:
        for _ in range(argon_runs):
            fresh = os.urandom(16)
            digest = hash_secret_raw(
                b"correct horse battery staple", fresh, 4, 16384, 4, 32, Type.ID
            )
            _ = f"{{3,}} {base64.b64encode(digest).decode()} {base64.b64encode(fresh).decode()}"

    rows = [
        decrypt_row(),
        _pair(
            f"unwrap one user secret (RSA-{rsa_bits})",
            unwrap_library,
            unwrap_bare,
            unwraps,
            repeats,
        ),
        _pair(
            f"import private JWK, validated (RSA-{rsa_bits})",
            import_library(True),
            import_bare(True),
            imports,
            max(1, repeats // 2),
        ),
        _pair(
            f"import private JWK, validate=False (RSA-{rsa_bits})",
            import_library(False),
            import_bare(False),
            imports,
            repeats,
        ),
        _pair("derive_key (argon2id algo 3)", derive_library, derive_bare, 1, argon_rounds),
        _pair("hash_password (argon2id algo 3)", hash_library, hash_bare, 1, argon_rounds),
    ]

    mode = "smoke" if args.smoke else "full"
    print(
        f"bench_crypto ({mode}): {events:,} events of {statistics.mean(sizes):.0f} bytes "
        f"(min {min(sizes)}, max {max(sizes)}) from {visitors:,} visitors; "
        f"{unwraps} unwraps; best of {repeats} rounds ({argon_rounds} for argon2id); "
        f"Python {sys.version.split()[0]}"
    )
    print()
    print(f"| {'operation':<45} | {'offen_core':>12} | {'bare':>12} | {'ratio':>6} |")
    print(f"|{'-' * 47}|{'-' * 13}:|{'-' * 13}:|{'-' * 7}:|")
    for name, library, bare in rows:
        ratio = f"{library / bare:5.2f}x"
        print(f"| {name:<45} | {_format(library):>12} | {_format(bare):>12} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
