// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
/**
 * The browser's cryptography, in Offen's wire formats.
 *
 * A value travels as a versioned cipher string:
 *
 *     "{" algoVersion "," [keyVersion] "}" SPACE base64(ciphertext) [SPACE base64(nonce)]
 *
 * with standard base64 (alphabet "+/", "=" padding). Symmetric values (algo 1, AES-GCM) carry
 * the ciphertext with its 16-byte tag appended and a 12-byte nonce (16 bytes are read too,
 * as Offen's fallback wrote them); asymmetric values (algo 1, RSA-OAEP with SHA-256) carry
 * no nonce. The plaintext is always UTF-8 of JSON.stringify(value).
 *
 * This module has no DOM dependency: it runs in the vault, in the visitor page and in Node 20
 * (where globalThis.crypto.subtle, CompressionStream and Response exist).
 *
 * @module crypto
 */

/** Algo version of AES-GCM in symmetric cipher strings. */
export const SYMMETRIC_ALGO_AESGCM = 1;

/** Algo version of RSA-OAEP with SHA-256 in asymmetric cipher strings. */
export const ASYMMETRIC_ALGO_RSA_OAEP = 1;

/** Nonce length written by encryptSymmetric, in bytes. */
export const NONCE_LENGTH = 12;

/** Nonce lengths accepted on decryption: WebCrypto's 12 and Offen's forge fallback's 16. */
export const ACCEPTED_NONCE_LENGTHS = Object.freeze([12, 16]);

const CIPHER_PATTERN = /^\{(\d+),(\d*)\} (.+)$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const RSA_OAEP = { name: 'RSA-OAEP', hash: { name: 'SHA-256' } };

/** The root of every error this module throws. */
export class CryptoError extends Error {
  /** @param {string} message what was wrong and what to do */
  constructor(message) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** A cipher string that does not follow the grammar, or a chunk that is not base64. */
export class MalformedCipherError extends CryptoError {}

/** A cipher string whose algo version this module does not know. */
export class UnsupportedAlgorithmError extends CryptoError {}

/** A key that WebCrypto refuses to import (wrong shape, size or usages). */
export class InvalidKeyError extends CryptoError {}

/** Authentication failed (wrong key, tampered data) or the plaintext is not what was stored. */
export class DecryptionError extends CryptoError {}

/**
 * Encodes bytes as standard base64 with padding.
 *
 * @param {Uint8Array} bytes the bytes to encode
 * @returns {string} base64 text with the "+/" alphabet and "=" padding
 */
export function encodeBase64(bytes) {
  let binary = '';
  const chunkSize = 0x8000;
  for (let start = 0; start < bytes.length; start += chunkSize) {
    binary += String.fromCharCode(...bytes.subarray(start, start + chunkSize));
  }
  return btoa(binary);
}

/**
 * Decodes standard base64 with padding, strictly.
 *
 * @param {string} text base64 text; URL-safe characters, white space or a missing padding
 *     are refused
 * @returns {Uint8Array} the decoded bytes
 * @throws {MalformedCipherError} when the text is not canonical base64
 */
export function decodeBase64(text) {
  if (typeof text !== 'string' || !BASE64_PATTERN.test(text)) {
    throw new MalformedCipherError('a cipher chunk is not standard base64 with padding');
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

/**
 * Splits a versioned cipher string into its parts.
 *
 * The grammar is anchored at both ends and the parts are separated by single spaces.
 *
 * @param {string} cipher the cipher string, such as "{1,} <b64> <b64>"
 * @returns {{algoVersion: number, keyVersion: (number|null), ciphertext: Uint8Array,
 *     nonce: (Uint8Array|null)}} the parts; keyVersion is null when the header has none and
 *     nonce is null when there is no third chunk
 * @throws {MalformedCipherError} when the string does not follow the grammar
 */
export function parseCipher(cipher) {
  const match = typeof cipher === 'string' ? CIPHER_PATTERN.exec(cipher) : null;
  if (match === null) {
    throw new MalformedCipherError(
      'the value is not a versioned cipher string "{algo,keyVersion} base64 [base64]"',
    );
  }

  const chunks = match[3].split(' ');
  if (chunks.length > 2 || chunks.some((chunk) => chunk === '')) {
    throw new MalformedCipherError('a cipher string has one or two base64 chunks after its header');
  }

  return {
    algoVersion: Number(match[1]),
    keyVersion: match[2] === '' ? null : Number(match[2]),
    ciphertext: decodeBase64(chunks[0]),
    nonce: chunks.length === 2 ? decodeBase64(chunks[1]) : null,
  };
}

/**
 * Builds a versioned cipher string.
 *
 * @param {{algoVersion: number, keyVersion?: (number|null), ciphertext: Uint8Array,
 *     nonce?: (Uint8Array|null)}} parts the parts; browsers write no key version
 * @returns {string} the cipher string, such as "{1,} <b64> <b64>"
 */
export function formatCipher({ algoVersion, keyVersion = null, ciphertext, nonce = null }) {
  const header = `{${algoVersion},${keyVersion === null ? '' : keyVersion}}`;
  const chunks = [header, encodeBase64(ciphertext)];
  if (nonce !== null) {
    chunks.push(encodeBase64(nonce));
  }
  return chunks.join(' ');
}

/**
 * Creates a new user secret: an AES-GCM 128-bit key, exported as a JWK.
 *
 * @returns {Promise<JsonWebKey>} a JWK such as
 *     {alg: "A128GCM", ext: true, k: "...", key_ops: ["encrypt", "decrypt"], kty: "oct"}
 */
export async function createSymmetricKey() {
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 128 }, true, [
    'encrypt',
    'decrypt',
  ]);
  return exportKey(key);
}

/**
 * Exports an extractable WebCrypto key as a JWK.
 *
 * @param {CryptoKey} key an extractable key
 * @returns {Promise<JsonWebKey>} the key as a JWK
 */
export async function exportKey(key) {
  return crypto.subtle.exportKey('jwk', key);
}

/**
 * Imports an AES-GCM key from a JWK (AES-128 or AES-256), for encryption and decryption.
 *
 * @param {JsonWebKey|CryptoKey} jwk the key; a CryptoKey is returned as it is
 * @returns {Promise<CryptoKey>} a non-extractable key
 * @throws {InvalidKeyError} when WebCrypto refuses the JWK
 */
export async function importSymmetricKey(jwk) {
  if (isCryptoKey(jwk)) {
    return jwk;
  }
  try {
    return await crypto.subtle.importKey('jwk', jwk, { name: 'AES-GCM' }, false, [
      'encrypt',
      'decrypt',
    ]);
  } catch {
    throw new InvalidKeyError('the AES key could not be imported: expected an AES-GCM JWK');
  }
}

/**
 * Encrypts bytes with AES-GCM under a fresh 12-byte nonce.
 *
 * @param {JsonWebKey|CryptoKey} key the AES key
 * @param {Uint8Array} plaintext the bytes to encrypt
 * @param {{compress?: boolean}} [options] compress: gzip the bytes first (Offen does so only
 *     for its local caches; the flag is not part of the cipher string)
 * @returns {Promise<string>} "{1,} b64(ciphertext + tag) b64(nonce)"
 */
export async function encryptSymmetricBytes(key, plaintext, { compress = false } = {}) {
  const cryptoKey = await importSymmetricKey(key);
  const data = compress ? await gzip(plaintext) : plaintext;
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce }, cryptoKey, data);
  return formatCipher({
    algoVersion: SYMMETRIC_ALGO_AESGCM,
    ciphertext: new Uint8Array(ciphertext),
    nonce,
  });
}

/**
 * Decrypts an AES-GCM cipher string to bytes.
 *
 * @param {JsonWebKey|CryptoKey} key the AES key
 * @param {string} cipher "{1,} b64(ciphertext + tag) b64(nonce)", nonce of 12 or 16 bytes
 * @param {{compressed?: boolean}} [options] compressed: gunzip after decryption
 * @returns {Promise<Uint8Array>} the plaintext bytes
 * @throws {MalformedCipherError} when the string or its nonce is malformed
 * @throws {UnsupportedAlgorithmError} when the algo version is not 1
 * @throws {DecryptionError} when authentication or decompression fails
 */
export async function decryptSymmetricBytes(key, cipher, { compressed = false } = {}) {
  const parts = parseCipher(cipher);
  if (parts.algoVersion !== SYMMETRIC_ALGO_AESGCM) {
    throw new UnsupportedAlgorithmError(
      `unknown symmetric algo version ${parts.algoVersion}; only ${SYMMETRIC_ALGO_AESGCM} exists`,
    );
  }
  if (parts.nonce === null || !ACCEPTED_NONCE_LENGTHS.includes(parts.nonce.length)) {
    throw new MalformedCipherError('a symmetric cipher needs a nonce chunk of 12 or 16 bytes');
  }

  const cryptoKey = await importSymmetricKey(key);
  let plaintext;
  try {
    const buffer = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: parts.nonce },
      cryptoKey,
      parts.ciphertext,
    );
    plaintext = new Uint8Array(buffer);
  } catch {
    throw new DecryptionError('decryption failed: wrong key or altered ciphertext');
  }
  return compressed ? gunzip(plaintext) : plaintext;
}

/**
 * Encrypts a value as Offen's vault does: JSON.stringify, UTF-8, AES-GCM, 12-byte nonce.
 *
 * @param {JsonWebKey|CryptoKey} key the AES key (the user secret)
 * @param {*} value any JSON-serialisable value
 * @param {{compress?: boolean}} [options] see encryptSymmetricBytes
 * @returns {Promise<string>} "{1,} b64(ciphertext + tag) b64(nonce)"
 */
export async function encryptSymmetric(key, value, options = {}) {
  return encryptSymmetricBytes(key, encodeJson(value), options);
}

/**
 * Decrypts a cipher string made by encryptSymmetric (or by Offen) and parses its JSON.
 *
 * @param {JsonWebKey|CryptoKey} key the AES key (the user secret)
 * @param {string} cipher the symmetric cipher string
 * @param {{compressed?: boolean}} [options] see decryptSymmetricBytes
 * @returns {Promise<*>} the decrypted value
 * @throws {CryptoError} a subclass naming what went wrong
 */
export async function decryptSymmetric(key, cipher, options = {}) {
  return decodeJson(await decryptSymmetricBytes(key, cipher, options));
}

/**
 * Imports an account's RSA public key (RSA-OAEP, SHA-256) from a JWK.
 *
 * @param {JsonWebKey|CryptoKey} jwk the public JWK, {kty: "RSA", n, e}; a CryptoKey is
 *     returned as it is
 * @returns {Promise<CryptoKey>} a key for encryption
 * @throws {InvalidKeyError} when WebCrypto refuses the JWK
 */
export async function importPublicKey(jwk) {
  return importRsaKey(jwk, 'encrypt');
}

/**
 * Imports an RSA private key (RSA-OAEP, SHA-256) from a JWK.
 *
 * The vault never holds one; operator tools and tests do.
 *
 * @param {JsonWebKey|CryptoKey} jwk the private JWK with n, e, d, p, q, dp, dq, qi
 * @returns {Promise<CryptoKey>} a key for decryption
 * @throws {InvalidKeyError} when WebCrypto refuses the JWK
 */
export async function importPrivateKey(jwk) {
  return importRsaKey(jwk, 'decrypt');
}

/**
 * Encrypts a value for an account as Offen's vault wraps a user secret:
 * JSON.stringify, UTF-8, RSA-OAEP with SHA-256.
 *
 * @param {JsonWebKey|CryptoKey} publicKey the account's public key
 * @param {*} value any JSON-serialisable value (the user secret JWK)
 * @returns {Promise<string>} "{1,} b64(ciphertext)"
 */
export async function encryptAsymmetric(publicKey, value) {
  const cryptoKey = await importPublicKey(publicKey);
  const ciphertext = await crypto.subtle.encrypt(RSA_OAEP, cryptoKey, encodeJson(value));
  return formatCipher({
    algoVersion: ASYMMETRIC_ALGO_RSA_OAEP,
    ciphertext: new Uint8Array(ciphertext),
  });
}

/**
 * Decrypts an RSA-OAEP cipher string and parses its JSON.
 *
 * @param {JsonWebKey|CryptoKey} privateKey the account's private key
 * @param {string} cipher "{1,[keyVersion]} b64(ciphertext)"
 * @returns {Promise<*>} the decrypted value
 * @throws {CryptoError} a subclass naming what went wrong
 */
export async function decryptAsymmetric(privateKey, cipher) {
  const parts = parseCipher(cipher);
  if (parts.algoVersion !== ASYMMETRIC_ALGO_RSA_OAEP) {
    throw new UnsupportedAlgorithmError(
      `unknown asymmetric algo version ${parts.algoVersion}; ` +
        `only ${ASYMMETRIC_ALGO_RSA_OAEP} exists`,
    );
  }
  if (parts.nonce !== null) {
    throw new MalformedCipherError('an asymmetric cipher has exactly one base64 chunk');
  }

  const cryptoKey = await importPrivateKey(privateKey);
  let plaintext;
  try {
    plaintext = await crypto.subtle.decrypt(RSA_OAEP, cryptoKey, parts.ciphertext);
  } catch {
    throw new DecryptionError('decryption failed: wrong key or altered ciphertext');
  }
  return decodeJson(new Uint8Array(plaintext));
}

async function importRsaKey(jwk, usage) {
  if (isCryptoKey(jwk)) {
    return jwk;
  }
  try {
    return await crypto.subtle.importKey('jwk', jwk, RSA_OAEP, false, [usage]);
  } catch {
    throw new InvalidKeyError(`the RSA ${usage}ion key could not be imported: expected an RSA JWK`);
  }
}

function isCryptoKey(value) {
  return typeof CryptoKey !== 'undefined' && value instanceof CryptoKey;
}

function encodeJson(value) {
  return new TextEncoder().encode(JSON.stringify(value));
}

function decodeJson(bytes) {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new DecryptionError('the decrypted bytes are not UTF-8 JSON');
  }
}

async function gzip(bytes) {
  return pipeBytes(bytes, new CompressionStream('gzip'));
}

async function gunzip(bytes) {
  try {
    return await pipeBytes(bytes, new DecompressionStream('gzip'));
  } catch {
    throw new DecryptionError('the decrypted bytes are not gzip data; was it compressed?');
  }
}

async function pipeBytes(bytes, transform) {
  const stream = new Blob([bytes]).stream().pipeThrough(transform);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
