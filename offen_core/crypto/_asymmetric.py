# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""RSA-OAEP as Offen uses it: account key pairs that wrap user secrets.

Offen's asymmetric algo version 1 is RSA-OAEP with SHA-256 as both the OAEP digest and the
MGF1 digest and an empty label; the cipher string has no nonce chunk. Keys travel as JWKs:
the Go server writes ``{"e", "kty", "n"}`` and the full private member set without ``alg``;
browser-made keys may add ``alg``, ``ext`` and ``key_ops``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any, Final, NamedTuple, TypeAlias

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from offen_core.crypto._base64 import b64decode, b64encode, b64url_encode
from offen_core.crypto._cipher import split_cipher_string
from offen_core.crypto._jwk import (
    as_members,
    bytes_member,
    check_key_ops,
    optional_str,
    require_kty,
)
from offen_core.errors import (
    DecryptionError,
    InvalidInputError,
    InvalidKeyError,
    MalformedCipherError,
    UnsupportedAlgorithmError,
)

__all__ = [
    "RSA_OAEP_ALGO",
    "KeyPair",
    "PrivateKey",
    "PrivateKeyLike",
    "PublicKey",
    "PublicKeyLike",
    "decrypt_asymmetric",
    "encrypt_asymmetric",
    "generate_key_pair",
]

RSA_OAEP_ALGO: Final = 1
"""The asymmetric algo version of RSA-OAEP-SHA256, the only one Offen defines."""

MIN_RSA_BITS: Final = 2048
"""The smallest RSA modulus accepted on import."""

MAX_RSA_BITS: Final = 16384
"""The largest RSA modulus accepted, which bounds the work a hostile key can cause."""

_DEFAULT_BITS = 4096
_PUBLIC_EXPONENT = 65537
# Go's crypto/rsa refuses exponents above 2**31 - 1; keys it cannot use are refused here too.
_MAX_EXPONENT = 2**31 - 1
_OAEP = padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
)
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")


def _to_int(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _to_b64url(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def _check_size(bits: int, what: str) -> None:
    if bits < MIN_RSA_BITS:
        raise InvalidKeyError(
            f"{what} has a {bits}-bit modulus; at least {MIN_RSA_BITS} bits are required"
        )
    if bits > MAX_RSA_BITS:
        raise InvalidKeyError(f"{what} has a {bits}-bit modulus; at most {MAX_RSA_BITS} allowed")


def _public_numbers(members: Mapping[str, Any], what: str) -> rsa.RSAPublicNumbers:
    require_kty(members, "RSA", what)
    alg = optional_str(members, "alg", what)
    if alg is not None and alg != "RSA-OAEP-256":
        raise InvalidKeyError(
            f'{what} JWK "alg" must be "RSA-OAEP-256" (RSA-OAEP with SHA-256) when present'
        )
    if "oth" in members:
        raise InvalidKeyError(f"{what} JWK has more than two primes, which is not supported")
    n = _to_int(bytes_member(members, "n", what))
    e = _to_int(bytes_member(members, "e", what))
    _check_size(n.bit_length(), what)
    if n % 2 == 0:
        raise InvalidKeyError(f"{what} has an even modulus, which no RSA key has")
    if e < 3 or e % 2 == 0 or e > _MAX_EXPONENT:
        raise InvalidKeyError(
            f"{what} has an invalid public exponent (expected an odd number from 3 to 2**31-1)"
        )
    return rsa.RSAPublicNumbers(e, n)


class PublicKey:
    """An RSA public key (an account's key) that wraps user secrets with RSA-OAEP-SHA256.

    Make one with `PublicKey.from_jwk` or `PrivateKey.public_key`. ``repr()`` shows the key
    size only.

    Args:
        key: A ``cryptography`` RSA public key to wrap.

    Raises:
        InvalidKeyError: If ``key`` is not an RSA public key of 2048 to 16384 bits.
    """

    __slots__ = ("_key",)

    def __init__(self, key: rsa.RSAPublicKey) -> None:
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidKeyError(f"expected an RSA public key, not {type(key).__name__}")
        _check_size(key.key_size, "RSA public key")
        self._key = key

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any] | str) -> PublicKey:
        """Import a public key from a JWK, as Offen's server, WebCrypto or its fallback wrote it.

        Extra members (``alg``, ``ext``, ``key_ops``, ``use``) are accepted when they fit an
        RSA-OAEP-SHA256 encryption key.

        Args:
            jwk: The JWK as a mapping or JSON text.

        Returns:
            The key.

        Raises:
            InvalidKeyError: If ``jwk`` is not an RSA public JWK of 2048 to 16384 bits with a
                valid exponent, if it holds private members (pass the public half instead),
                or its ``alg``/``key_ops`` do not allow RSA-OAEP-SHA256 encryption.
        """
        members = as_members(jwk, "RSA public key")
        if any(name in members for name in _PRIVATE_MEMBERS):
            raise InvalidKeyError(
                "RSA public key JWK holds private members; pass only the public half "
                "(PrivateKey.public_key().to_jwk())"
            )
        numbers = _public_numbers(members, "RSA public key")
        check_key_ops(members, "RSA public key", any_of=("encrypt", "wrapKey"))
        try:
            return cls(numbers.public_key())
        except ValueError:
            raise InvalidKeyError("RSA public key JWK does not form a valid key") from None

    def to_jwk(self) -> dict[str, Any]:
        """Export the key in the shape Offen's server writes; WebCrypto imports it.

        Returns:
            ``{"e": <base64url>, "kty": "RSA", "n": <base64url>}``.
        """
        numbers = self._key.public_numbers()
        return {"e": _to_b64url(numbers.e), "kty": "RSA", "n": _to_b64url(numbers.n)}

    @property
    def key_size(self) -> int:
        """The modulus size in bits."""
        return self._key.key_size

    def __repr__(self) -> str:
        return f"PublicKey(bits={self.key_size})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self._key.public_numbers() == other._key.public_numbers()

    def __hash__(self) -> int:
        return hash(self._key.public_numbers())

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return (PublicKey.from_jwk, (self.to_jwk(),))


class PrivateKey:
    """An RSA private key (an account's key) that unwraps user secrets.

    Importing a private JWK with full validation costs about 230 ms for a 4096-bit key: import
    each key once and reuse the object. ``repr()`` and ``str()`` show the key size only.

    Make one with `PrivateKey.from_jwk` or `generate_key_pair`.

    Args:
        key: A ``cryptography`` RSA private key to wrap.

    Raises:
        InvalidKeyError: If ``key`` is not an RSA private key of 2048 to 16384 bits.
    """

    __slots__ = ("_key",)

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        if not isinstance(key, rsa.RSAPrivateKey):
            raise InvalidKeyError(f"expected an RSA private key, not {type(key).__name__}")
        _check_size(key.key_size, "RSA private key")
        self._key = key

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any] | str, *, validate: bool = True) -> PrivateKey:
        """Import a private key from a JWK with all of ``n e d p q dp dq qi``.

        Args:
            jwk: The JWK as a mapping or JSON text.
            validate: Run the full RSA consistency check (primality of ``p`` and ``q``; the
                costly part of an import). Pass ``False`` only for a key that comes out of an
                authenticated decryption, such as an account's private key unwrapped with
                its KEK: AES-GCM proves that the JWK was written by someone holding the KEK,
                so it is the key the account was created with, not one an attacker crafted;
                and a crafted key would hurt only its own maker, since this library only
                decrypts with it (it never signs, so no fault attack can leak it). The cheap
                checks (``n = p·q``, the CRT members, the sizes) always run.

        Returns:
            The key.

        Raises:
            InvalidKeyError: If ``jwk`` is not an RSA private JWK of 2048 to 16384 bits, its
                members are inconsistent, or its ``alg``/``key_ops`` do not allow
                RSA-OAEP-SHA256 decryption.
        """
        what = "RSA private key"
        members = as_members(jwk, what)
        public = _public_numbers(members, what)
        check_key_ops(members, what, any_of=("decrypt", "unwrapKey"))
        d, p, q, dp, dq, qi = (_to_int(bytes_member(members, m, what)) for m in _PRIVATE_MEMBERS)
        n = public.n
        if not (
            1 < p < n
            and 1 < q < n
            and p * q == n
            and 1 < d < n
            and dp == d % (p - 1)
            and dq == d % (q - 1)
            and (qi * q) % p == 1
        ):
            raise InvalidKeyError(f"{what} JWK members are inconsistent (n, p, q, d, dp, dq, qi)")
        numbers = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public)
        try:
            key = numbers.private_key(unsafe_skip_rsa_key_validation=not validate)
        except ValueError:
            raise InvalidKeyError(f"{what} JWK does not form a valid RSA key") from None
        return cls(key)

    def to_jwk(self) -> dict[str, Any]:
        """Export the key in the shape Offen's server writes; WebCrypto imports it.

        Returns:
            ``{"d", "dp", "dq", "e", "kty": "RSA", "n", "p", "q", "qi"}`` (base64url members).
        """
        numbers = self._key.private_numbers()
        public = numbers.public_numbers
        return {
            "d": _to_b64url(numbers.d),
            "dp": _to_b64url(numbers.dmp1),
            "dq": _to_b64url(numbers.dmq1),
            "e": _to_b64url(public.e),
            "kty": "RSA",
            "n": _to_b64url(public.n),
            "p": _to_b64url(numbers.p),
            "q": _to_b64url(numbers.q),
            "qi": _to_b64url(numbers.iqmp),
        }

    def public_key(self) -> PublicKey:
        """Return the public half."""
        return PublicKey(self._key.public_key())

    @property
    def key_size(self) -> int:
        """The modulus size in bits."""
        return self._key.key_size

    def __repr__(self) -> str:
        return f"PrivateKey(bits={self.key_size})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PrivateKey):
            return NotImplemented
        mine = json.dumps(self.to_jwk(), sort_keys=True).encode()
        theirs = json.dumps(other.to_jwk(), sort_keys=True).encode()
        return hmac.compare_digest(mine, theirs)

    def __hash__(self) -> int:
        return hash(self._key.public_key().public_numbers())

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any], bool]]:
        # The key was checked when it was made; unpickling trusts the pickle anyway.
        return (_restore_private_key, (self.to_jwk(), False))


def _restore_private_key(jwk: dict[str, Any], validate: bool) -> PrivateKey:
    return PrivateKey.from_jwk(jwk, validate=validate)


class KeyPair(NamedTuple):
    """An RSA key pair, as `generate_key_pair` returns it."""

    private_key: PrivateKey
    """The private half, to be wrapped under the account's KEK."""
    public_key: PublicKey
    """The public half, given to clients to wrap user secrets."""


PublicKeyLike: TypeAlias = PublicKey | PrivateKey | Mapping[str, Any] | str
"""What `encrypt_asymmetric` accepts: a key object or a public JWK (a private key's public
half is used)."""

PrivateKeyLike: TypeAlias = PrivateKey | Mapping[str, Any] | str
"""What `decrypt_asymmetric` accepts: a key object or a private JWK."""


def generate_key_pair(bits: int = _DEFAULT_BITS) -> KeyPair:
    """Generate an RSA key pair for an account (public exponent 65537).

    Args:
        bits: The modulus size: Offen uses 4096; 2048 to 16384 are allowed (2048 suits tests;
            see `offen_core.testing.KeyPairPool`).

    Returns:
        The new key pair.

    Raises:
        InvalidInputError: If ``bits`` is outside 2048..16384 or not a multiple of 8.
    """
    if type(bits) is not int or not MIN_RSA_BITS <= bits <= MAX_RSA_BITS or bits % 8:
        raise InvalidInputError(
            "bits", f"an RSA key has a multiple of 8 from {MIN_RSA_BITS} to {MAX_RSA_BITS} bits"
        )
    key = rsa.generate_private_key(public_exponent=_PUBLIC_EXPONENT, key_size=bits)
    private = PrivateKey(key)
    return KeyPair(private, private.public_key())


def _as_public_key(key: object) -> PublicKey:
    if isinstance(key, PublicKey):
        return key
    if isinstance(key, PrivateKey):
        return key.public_key()
    return PublicKey.from_jwk(key)  # type: ignore[arg-type]


def _as_private_key(key: object) -> PrivateKey:
    if isinstance(key, PrivateKey):
        return key
    if isinstance(key, PublicKey):
        raise InvalidKeyError("decryption needs the private key, not the public key")
    return PrivateKey.from_jwk(key)  # type: ignore[arg-type]


def encrypt_asymmetric(
    public_key: PublicKeyLike, plaintext: bytes, *, key_version: int | None = None
) -> str:
    """Wrap bytes with RSA-OAEP-SHA256 into an Offen cipher string ``{1,[v]} b64(ct)``.

    Args:
        public_key: A `PublicKey`, a `PrivateKey` (its public half is used) or a public JWK.
        plaintext: The bytes to wrap (Offen wraps the UTF-8 JSON of a user secret's JWK); at
            most the key size in bytes minus 66 (446 bytes for a 4096-bit key).
        key_version: The account key version to stamp into the header, or ``None`` for
            none, as Offen's clients write.

    Returns:
        The cipher string.

    Raises:
        InvalidKeyError: If ``public_key`` is not a usable RSA public key.
        InvalidInputError: If ``plaintext`` is not bytes or too long for the key, or
            ``key_version`` is not an integer from 0 to 999,999,999.
    """
    key = _as_public_key(public_key)
    if not isinstance(plaintext, bytes | bytearray | memoryview):
        raise InvalidInputError(
            "plaintext", f"must be bytes, not {type(plaintext).__name__}; encode text as UTF-8"
        )
    if key_version is not None and (
        type(key_version) is not int or not 0 <= key_version <= 999_999_999
    ):
        raise InvalidInputError("key_version", "must be None or an integer from 0 to 999999999")
    limit = key.key_size // 8 - 2 * hashes.SHA256.digest_size - 2
    if len(plaintext) > limit:
        raise InvalidInputError(
            "plaintext", f"RSA-OAEP with this {key.key_size}-bit key wraps at most {limit} bytes"
        )
    sealed = key._key.encrypt(bytes(plaintext), _OAEP)
    version = "" if key_version is None else str(key_version)
    return f"{{{RSA_OAEP_ALGO},{version}}} {b64encode(sealed)}"


def decrypt_asymmetric(private_key: PrivateKeyLike, cipher: str) -> bytes:
    """Unwrap an Offen RSA-OAEP-SHA256 cipher string.

    The key version in the header, if any, is not checked here: read it with
    `parse_cipher_string` to choose the key.

    Args:
        private_key: A `PrivateKey` or a private JWK. Pass a key object when unwrapping
            many values: a JWK is imported (about 230 ms) on every call.
        cipher: The cipher string ``{1,[keyVersion]} b64(ct)``.

    Returns:
        The plaintext bytes.

    Raises:
        MalformedCipherError: If ``cipher`` does not follow the grammar or has a nonce chunk.
        UnsupportedAlgorithmError: If the algo version is not 1 (RSA-OAEP-SHA256).
        InvalidKeyError: If ``private_key`` is not a usable RSA private key.
        DecryptionError: If the ciphertext does not decrypt under the key (wrong key,
            tampered or truncated ciphertext).
    """
    key = _as_private_key(private_key)
    algo, _, first, second = split_cipher_string(cipher)
    if algo != RSA_OAEP_ALGO:
        raise UnsupportedAlgorithmError(
            f"unknown asymmetric algo version {algo}; only {RSA_OAEP_ALGO} (RSA-OAEP) exists"
        )
    if second is not None:
        raise MalformedCipherError("an RSA-OAEP cipher string has one chunk and no nonce")
    try:
        sealed = b64decode(first)
    except ValueError:
        raise MalformedCipherError(
            "the RSA-OAEP cipher string is not standard base64 with padding"
        ) from None
    if len(sealed) != (key.key_size + 7) // 8:
        raise DecryptionError(
            f"the ciphertext is {len(sealed)} bytes, but this key produces "
            f"{(key.key_size + 7) // 8}: wrong key, or the value was altered"
        )
    try:
        return key._key.decrypt(sealed, _OAEP)
    except ValueError:
        raise DecryptionError(
            "the ciphertext does not decrypt: wrong key, or the value was altered"
        ) from None
