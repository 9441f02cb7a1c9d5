// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
/**
 * The exchange and the sending of events, as Offen's vault does them.
 *
 * The exchange gives the server a user secret it cannot read: the vault creates an AES-GCM key,
 * wraps it with the account's RSA public key and posts the wrapped form. Each event is then
 * encrypted under that secret. When the server answers 400 to an event (it no longer knows the
 * secret, or the `user` cookie is gone), the vault forgets its secret, exchanges a new one and
 * sends the event once more.
 *
 * Both functions take their collaborators as a parameter, so tests can give them a fake server:
 * `deps.api` with getPublicKey, postUserSecret and postEvent (see api.js) and `deps.secrets`
 * with load, save and remove (see store.js).
 *
 * @module relay
 */

import { createSymmetricKey, encryptAsymmetric, encryptSymmetric } from './crypto.js';

/**
 * Returns the account's user secret, running the exchange first when there is none.
 *
 * The secret is kept only after the server accepted it.
 *
 * @param {string} accountId the account
 * @param {{api: object, secrets: object}} deps the server calls and the secret store
 * @param {{flush?: boolean}} [options] flush: forget the current secret and exchange a new one
 * @returns {Promise<JsonWebKey>} the user secret
 * @throws {Error} the error of the failed server call, unchanged
 */
export async function ensureUserSecret(accountId, deps, { flush = false } = {}) {
  if (flush) {
    deps.secrets.remove(accountId);
  }
  const existing = deps.secrets.load(accountId);
  if (existing !== null) {
    return existing;
  }

  const publicKey = await deps.api.getPublicKey(accountId);
  const userSecret = await createSymmetricKey();
  const encryptedSecret = await encryptAsymmetric(publicKey, userSecret);
  await deps.api.postUserSecret(accountId, encryptedSecret);

  deps.secrets.save(accountId, userSecret);
  return userSecret;
}

/**
 * Encrypts a payload under the account's user secret and posts it; on a 400 answer, exchanges
 * a new secret and tries exactly once more.
 *
 * @param {string} accountId the account
 * @param {object} payload the complete PAGEVIEW payload (see payload.js)
 * @param {{api: object, secrets: object}} deps the server calls and the secret store
 * @returns {Promise<object|null>} the server's answer to the event
 * @throws {Error} any error but a first 400, or the error of the second attempt
 */
export async function relayEvent(accountId, payload, deps) {
  try {
    return await sendEvent(accountId, payload, deps, false);
  } catch (error) {
    if (error?.status !== 400) {
      throw error;
    }
    return sendEvent(accountId, payload, deps, true);
  }
}

async function sendEvent(accountId, payload, deps, flush) {
  const userSecret = await ensureUserSecret(accountId, deps, { flush });
  const cipher = await encryptSymmetric(userSecret, payload);
  return deps.api.postEvent(accountId, cipher);
}
