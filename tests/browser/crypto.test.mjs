// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
// The browser crypto module (examples/browser/crypto.js) against Offen's formats.
//
// Run with `node --test tests/browser/crypto.test.mjs` (Node 20 or later). The conformance
// part reads Offen's vectors from OFFEN_CORE_VECTORS, by default
// ../shared/interop/offen-vectors.json beside the project root; without them those tests are
// skipped, unless OFFEN_CORE_REQUIRE_SERVICES=1 makes their absence a failure.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as oc from '../../examples/browser/crypto.js';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const VECTORS_PATH =
  process.env.OFFEN_CORE_VECTORS ??
  path.resolve(PROJECT_ROOT, '..', 'shared', 'interop', 'offen-vectors.json');
const REQUIRE_SERVICES = process.env.OFFEN_CORE_REQUIRE_SERVICES === '1';
const VECTORS = existsSync(VECTORS_PATH) ? JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) : null;
const NO_VECTORS = VECTORS === null && `Offen's test vectors are not at ${VECTORS_PATH}`;

const CIPHER_SHAPE = /^\{1,\} [A-Za-z0-9+/]+={0,2}( [A-Za-z0-9+/]+={0,2})?$/;
const SAMPLE_TEXT = 'alice – bob ✔️';

/** The error class each kind of negative vector must be rejected with. */
const EXPECTED_ERROR = {
  flipped_ciphertext_byte: oc.DecryptionError,
  flipped_tag_byte: oc.DecryptionError,
  flipped_nonce_byte: oc.DecryptionError,
  wrong_key: oc.DecryptionError,
  compression_flag_mismatch: oc.DecryptionError,
  malformed_versioned_cipher: oc.MalformedCipherError,
  unknown_algo_version: oc.UnsupportedAlgorithmError,
};

/** Negative vectors for the server's argon2 and hash functions, which the browser never runs. */
const SERVER_SIDE_OPERATIONS = new Set(['derive_key', 'compare_string', 'hash_fast']);

function byId(list) {
  return new Map(list.map((item) => [item.id, item]));
}

const secrets = VECTORS ? byId(VECTORS.user_secrets) : new Map();
const keypairs = VECTORS ? byId(VECTORS.rsa_keypairs) : new Map();
const privateKeys = new Map();

/** Imports each private key once: a 4096-bit import is slow enough to matter. */
async function privateKeyOf(keypairId) {
  if (!privateKeys.has(keypairId)) {
    privateKeys.set(keypairId, await oc.importPrivateKey(keypairs.get(keypairId).private_jwk));
  }
  return privateKeys.get(keypairId);
}

async function generateRsaJwks(modulusLength = 2048) {
  const pair = await crypto.subtle.generateKey(
    { name: 'RSA-OAEP', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['encrypt', 'decrypt'],
  );
  return {
    publicJwk: await crypto.subtle.exportKey('jwk', pair.publicKey),
    privateJwk: await crypto.subtle.exportKey('jwk', pair.privateKey),
  };
}

describe('Offen vectors', () => {
  test('the vectors are present when services are required', { skip: !REQUIRE_SERVICES }, () => {
    assert.ok(VECTORS, `${NO_VECTORS} (OFFEN_CORE_REQUIRE_SERVICES=1 makes this a failure)`);
  });

  describe('symmetric cases decrypt to their recorded plaintext', { skip: NO_VECTORS }, () => {
    for (const vector of VECTORS?.symmetric_cases ?? []) {
      const name = `${vector.id} (${vector.nonce_bytes}-byte nonce, gzip ${vector.compressed})`;
      test(name, async () => {
        const jwk = secrets.get(vector.secret_id).jwk;
        const options = { compressed: vector.compressed };

        const bytes = await oc.decryptSymmetricBytes(jwk, vector.ciphertext, options);
        assert.equal(new TextDecoder().decode(bytes), vector.plaintext_serialized);
        const value = await oc.decryptSymmetric(jwk, vector.ciphertext, options);
        assert.deepEqual(value, vector.plaintext);
        assert.equal(oc.parseCipher(vector.ciphertext).nonce.length, vector.nonce_bytes);
      });
    }
  });

  describe('asymmetric cases decrypt to their recorded plaintext', { skip: NO_VECTORS }, () => {
    for (const vector of VECTORS?.asymmetric_cases ?? []) {
      test(`${vector.id} (${vector.keypair_id})`, async () => {
        const key = await privateKeyOf(vector.keypair_id);
        assert.deepEqual(await oc.decryptAsymmetric(key, vector.ciphertext), vector.plaintext);
      });
    }
  });

  describe('negative cases are rejected with the right error', { skip: NO_VECTORS }, () => {
    for (const vector of VECTORS?.negative_cases ?? []) {
      const serverSide = SERVER_SIDE_OPERATIONS.has(vector.operation);
      const skip = serverSide && `${vector.operation} is a server-side operation, not in crypto.js`;
      test(`${vector.id} (${vector.operation}, ${vector.kind})`, { skip }, async () => {
        const expected = EXPECTED_ERROR[vector.kind];
        assert.ok(expected, `no expectation for kind ${vector.kind}`);
        if (vector.operation === 'decrypt_symmetric') {
          const jwk = secrets.get(vector.secret_id).jwk;
          await assert.rejects(
            oc.decryptSymmetric(jwk, vector.ciphertext, { compressed: vector.compressed }),
            expected,
          );
        } else {
          const key = await privateKeyOf(vector.keypair_id);
          await assert.rejects(oc.decryptAsymmetric(key, vector.ciphertext), expected);
        }
      });
    }
  });

  test('a user secret wrapped for a 4096-bit key unwraps again', { skip: NO_VECTORS }, async () => {
    const keypair = keypairs.get('rsa-1');
    const userSecret = await oc.createSymmetricKey();

    const cipher = await oc.encryptAsymmetric(keypair.public_jwk, userSecret);

    assert.equal(oc.parseCipher(cipher).ciphertext.length, keypair.bits / 8);
    assert.deepEqual(await oc.decryptAsymmetric(await privateKeyOf('rsa-1'), cipher), userSecret);
  });

  test('the forge-made user secret ({kty, k}) works', { skip: NO_VECTORS }, async () => {
    const jwk = secrets.get('secret-5').jwk;
    const cipher = await oc.encryptSymmetric(jwk, { type: 'PAGEVIEW' });
    assert.deepEqual(await oc.decryptSymmetric(jwk, cipher), { type: 'PAGEVIEW' });
  });
});

describe('base64', () => {
  test('matches the standard alphabet with padding for every length up to 64', () => {
    for (let length = 0; length <= 64; length += 1) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      const expected = Buffer.from(bytes).toString('base64');

      assert.equal(oc.encodeBase64(bytes), expected);
      assert.deepEqual(oc.decodeBase64(expected), bytes);
    }
  });

  test('encodes bytes that need "+", "/" and padding', () => {
    assert.equal(oc.encodeBase64(new Uint8Array([0xfb, 0xff, 0xbf])), '+/+/');
    assert.equal(oc.encodeBase64(new Uint8Array([0xff])), '/w==');
  });

  test('encodes a value larger than one chunk of the encoder', () => {
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256);
    assert.equal(oc.encodeBase64(bytes), Buffer.from(bytes).toString('base64'));
  });

  for (const bad of ['/w', '/w=', '-_-_', 'ab cd', 'ab\ncd', 'a===', '!%==', undefined]) {
    test(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => oc.decodeBase64(bad), oc.MalformedCipherError);
    });
  }
});

describe('versioned cipher strings', () => {
  test('parse the header, the ciphertext and the nonce', () => {
    const parts = oc.parseCipher('{1,} AQID BAUG');
    assert.deepEqual(parts, {
      algoVersion: 1,
      keyVersion: null,
      ciphertext: new Uint8Array([1, 2, 3]),
      nonce: new Uint8Array([4, 5, 6]),
    });
  });

  test('parse a key version and a missing nonce', () => {
    const parts = oc.parseCipher('{1,12} AQID');
    assert.equal(parts.keyVersion, 12);
    assert.equal(parts.nonce, null);
  });

  test('format is the inverse of parse', () => {
    for (const text of ['{1,} AQID BAUG', '{1,3} AQID', '{2,} /w==']) {
      assert.equal(oc.formatCipher(oc.parseCipher(text)), text);
    }
  });

  const malformed = [
    'AQID BAUG',
    ' {1,} AQID BAUG',
    '{1,} AQID BAUG ',
    '{1,}  AQID',
    '{1,} AQID  BAUG',
    '{1,} AQID BAUG BAUG',
    '{1,} ',
    '{a,} AQID',
    '{1} AQID',
    '{1,}\tAQID',
    'x{1,} AQID',
    '{1,} AQ BAUG',
    null,
  ];
  for (const text of malformed) {
    test(`refuse ${JSON.stringify(text)}`, () => {
      assert.throws(() => oc.parseCipher(text), oc.MalformedCipherError);
    });
  }
});

describe('symmetric encryption', () => {
  test('a created user secret has the shape of Offen\'s vault', async () => {
    const jwk = await oc.createSymmetricKey();

    assert.equal(jwk.kty, 'oct');
    assert.equal(jwk.alg, 'A128GCM');
    assert.equal(jwk.ext, true);
    assert.deepEqual([...jwk.key_ops].sort(), ['decrypt', 'encrypt']);
    assert.match(jwk.k, /^[A-Za-z0-9_-]{22}$/);
  });

  for (const value of [SAMPLE_TEXT, { value: [12, 90] }, '', null]) {
    test(`round-trips ${JSON.stringify(value)}`, async () => {
      const jwk = await oc.createSymmetricKey();

      const cipher = await oc.encryptSymmetric(jwk, value);

      assert.match(cipher, CIPHER_SHAPE);
      assert.deepEqual(await oc.decryptSymmetric(jwk, cipher), value);
    });
  }

  test('writes a 12-byte nonce and appends the 16-byte tag', async () => {
    const jwk = await oc.createSymmetricKey();
    const plaintext = new TextEncoder().encode(JSON.stringify(SAMPLE_TEXT));

    const parts = oc.parseCipher(await oc.encryptSymmetric(jwk, SAMPLE_TEXT));

    assert.equal(parts.nonce.length, 12);
    assert.equal(parts.ciphertext.length, plaintext.length + 16);
  });

  test('uses a fresh nonce for every encryption', async () => {
    const jwk = await oc.createSymmetricKey();
    const first = oc.parseCipher(await oc.encryptSymmetric(jwk, SAMPLE_TEXT));
    const second = oc.parseCipher(await oc.encryptSymmetric(jwk, SAMPLE_TEXT));
    assert.notDeepEqual(first.nonce, second.nonce);
    assert.notDeepEqual(first.ciphertext, second.ciphertext);
  });

  test('reads a 16-byte nonce as Offen\'s fallback wrote it', async () => {
    const jwk = await oc.createSymmetricKey();
    const key = await oc.importSymmetricKey(jwk);
    const nonce = crypto.getRandomValues(new Uint8Array(16));
    const data = new TextEncoder().encode(JSON.stringify({ type: 'PAGEVIEW' }));
    const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce }, key, data);

    const cipher = oc.formatCipher({
      algoVersion: 1,
      ciphertext: new Uint8Array(ciphertext),
      nonce,
    });

    assert.deepEqual(await oc.decryptSymmetric(jwk, cipher), { type: 'PAGEVIEW' });
  });

  test('refuses a nonce of another length', async () => {
    const jwk = await oc.createSymmetricKey();
    const parts = oc.parseCipher(await oc.encryptSymmetric(jwk, SAMPLE_TEXT));
    const cipher = oc.formatCipher({ ...parts, nonce: parts.nonce.subarray(0, 8) });
    await assert.rejects(oc.decryptSymmetric(jwk, cipher), oc.MalformedCipherError);
  });

  test('accepts an AES-256 key', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, [
      'encrypt',
      'decrypt',
    ]);
    const jwk = await oc.exportKey(key);
    assert.equal(jwk.alg, 'A256GCM');
    const cipher = await oc.encryptSymmetric(jwk, SAMPLE_TEXT);
    assert.equal(await oc.decryptSymmetric(jwk, cipher), SAMPLE_TEXT);
  });

  test('refuses the wrong key', async () => {
    const cipher = await oc.encryptSymmetric(await oc.createSymmetricKey(), SAMPLE_TEXT);
    await assert.rejects(
      oc.decryptSymmetric(await oc.createSymmetricKey(), cipher),
      oc.DecryptionError,
    );
  });

  test('refuses a key that is not an AES JWK', async () => {
    await assert.rejects(oc.encryptSymmetric({ kty: 'oct', k: 'short' }, 1), oc.InvalidKeyError);
    await assert.rejects(oc.importSymmetricKey('not a key'), oc.InvalidKeyError);
  });

  test('round-trips with compression and refuses a wrong compression flag', async () => {
    const jwk = await oc.createSymmetricKey();
    const value = { text: 'lorem ipsum '.repeat(100) };

    const compressed = await oc.encryptSymmetric(jwk, value, { compress: true });
    const plain = await oc.encryptSymmetric(jwk, value);

    const lengthOf = (cipher) => oc.parseCipher(cipher).ciphertext.length;
    assert.ok(lengthOf(compressed) < lengthOf(plain));
    assert.deepEqual(await oc.decryptSymmetric(jwk, compressed, { compressed: true }), value);
    await assert.rejects(oc.decryptSymmetric(jwk, plain, { compressed: true }), oc.DecryptionError);
    await assert.rejects(oc.decryptSymmetric(jwk, compressed), oc.DecryptionError);
  });

  test('refuses another algo version', async () => {
    const jwk = await oc.createSymmetricKey();
    const parts = oc.parseCipher(await oc.encryptSymmetric(jwk, SAMPLE_TEXT));
    const cipher = oc.formatCipher({ ...parts, algoVersion: 2 });
    await assert.rejects(oc.decryptSymmetric(jwk, cipher), oc.UnsupportedAlgorithmError);
  });
});

describe('asymmetric encryption', () => {
  const pair = generateRsaJwks();

  test('wraps a user secret as "{1,} b64" that the private key unwraps', async () => {
    const { publicJwk, privateJwk } = await pair;
    const userSecret = await oc.createSymmetricKey();

    const cipher = await oc.encryptAsymmetric(publicJwk, userSecret);

    assert.match(cipher, /^\{1,\} [A-Za-z0-9+/]+={0,2}$/);
    assert.equal(oc.parseCipher(cipher).ciphertext.length, 256);
    assert.deepEqual(await oc.decryptAsymmetric(privateJwk, cipher), userSecret);
  });

  test('accepts a public key without alg, as Offen\'s server writes it', async () => {
    const { publicJwk, privateJwk } = await pair;
    const bare = { kty: 'RSA', n: publicJwk.n, e: publicJwk.e };

    const cipher = await oc.encryptAsymmetric(bare, SAMPLE_TEXT);

    assert.equal(await oc.decryptAsymmetric(privateJwk, cipher), SAMPLE_TEXT);
  });

  test('refuses a wrong key, a nonce chunk and another algo version', async () => {
    const { publicJwk, privateJwk } = await pair;
    const other = await generateRsaJwks();
    const cipher = await oc.encryptAsymmetric(publicJwk, SAMPLE_TEXT);
    const parts = oc.parseCipher(cipher);

    await assert.rejects(oc.decryptAsymmetric(other.privateJwk, cipher), oc.DecryptionError);
    await assert.rejects(
      oc.decryptAsymmetric(privateJwk, `${cipher} AAAAAAAAAAAAAAAA`),
      oc.MalformedCipherError,
    );
    await assert.rejects(
      oc.decryptAsymmetric(privateJwk, oc.formatCipher({ ...parts, algoVersion: 7 })),
      oc.UnsupportedAlgorithmError,
    );
  });

  test('refuses keys that are not RSA JWKs', async () => {
    const { privateJwk } = await pair;
    await assert.rejects(oc.encryptAsymmetric({ kty: 'RSA' }, 1), oc.InvalidKeyError);
    await assert.rejects(oc.encryptAsymmetric(privateJwk, 1), oc.InvalidKeyError);
  });
});
