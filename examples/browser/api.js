// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
/**
 * The visitor's calls to the analytics server, with Offen's routes and JSON shapes.
 *
 * The vault and the visitor page are served by the analytics server, so every call goes to
 * their own origin and carries its cookies (`user`, `consent`). Bodies are JSON.
 *
 * @module api
 */

/** An answer of 400 or above; status is the HTTP status, message the server's "error". */
export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status
   * @param {string} message the server's explanation
   */
  constructor(status, message) {
    super(`${status}: ${message}`);
    this.name = 'ApiError';
    this.status = status;
  }
}

/**
 * Fetches the account's public key, the first step of the exchange.
 *
 * @param {string} accountId the account
 * @returns {Promise<JsonWebKey>} the RSA public key as a JWK
 * @throws {ApiError} 400 for an invalid id, 404 for an unknown or retired account
 */
export async function getPublicKey(accountId) {
  const account = await request('GET', `/api/exchange?accountId=${encodeURIComponent(accountId)}`);
  return account.publicKey;
}

/**
 * Posts the user secret, wrapped with the account's public key; the server answers by setting
 * (or keeping) the `user` cookie.
 *
 * @param {string} accountId the account
 * @param {string} encryptedSecret "{1,} b64" from encryptAsymmetric
 * @returns {Promise<null>} nothing (204)
 * @throws {ApiError} 400 for an invalid body, 404 for an unknown or retired account
 */
export async function postUserSecret(accountId, encryptedSecret) {
  return request('POST', '/api/exchange', { accountId, encryptedSecret });
}

/**
 * Posts one encrypted event.
 *
 * @param {string} accountId the account
 * @param {string} payload the encrypted payload, "{1,} b64 b64"
 * @returns {Promise<object|null>} {ack: true} (201), or null (204: no consent cookie, nothing
 *     stored)
 * @throws {ApiError} 400 for a missing `user` cookie or an unknown secret (exchange again),
 *     404 for an unknown or retired account
 */
export async function postEvent(accountId, payload) {
  return request('POST', '/api/events', { accountId, payload });
}

/**
 * Fetches the visitor's own events from every account.
 *
 * @returns {Promise<object|null>} {events: {accountId: [{accountId, eventId, payload}]},
 *     deletedEvents?, sequence?, retentionPeriod}, or null (204)
 * @throws {ApiError} 400 when this browser has no `user` cookie
 */
export async function getEvents() {
  return request('GET', '/api/events');
}

/**
 * Deletes the visitor's events in every account.
 *
 * @param {{forgetUser?: boolean}} [options] forgetUser: also clear the `user` cookie
 *     (POST /api/purge?user=1), used when the visitor opts out
 * @returns {Promise<null>} nothing (204)
 * @throws {ApiError} 400 when this browser has no `user` cookie
 */
export async function purge({ forgetUser = false } = {}) {
  return request('POST', forgetUser ? '/api/purge?user=1' : '/api/purge');
}

async function request(method, path, body = undefined) {
  const init = { method, credentials: 'include', cache: 'no-store', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  const response = await fetch(path, init);
  if (response.status >= 400) {
    throw new ApiError(response.status, await errorMessage(response));
  }
  if (response.status === 204) {
    return null;
  }
  return response.json();
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    return typeof body.error === 'string' ? body.error : response.statusText;
  } catch {
    return response.statusText;
  }
}
