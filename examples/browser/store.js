// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
/**
 * What the vault keeps in the browser, all of it in the analytics server's origin:
 * the user secrets (localStorage), the consent cookie and the per-account session id
 * (sessionStorage). The host page, in another origin, can read none of it.
 *
 * The browser globals (document, localStorage, sessionStorage, location) are only touched
 * inside functions, so the pure helpers can be imported and tested in Node.
 *
 * @module store
 */

/** The values of the consent cookie. */
export const ALLOW = 'allow';
export const DENY = 'deny';

/** Name of the consent cookie, as in Offen (the server checks it on POST /api/events). */
export const CONSENT_COOKIE = 'consent';

const SECRET_PREFIX = 'offen-core:user-secret:';
const SESSION_PREFIX = 'offen-core:session:';
const CONSENT_LIFETIME_DAYS = 100 * 365;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Builds the Set-Cookie text for the consent cookie.
 *
 * Over https (and not on localhost) the cookie is SameSite=None; Secure, so that the vault can
 * read it inside an iframe on another site; on localhost or over plain http, where a Secure
 * cookie cannot be relied upon, it is SameSite=Lax.
 *
 * @param {string} status "allow" or "deny"
 * @param {{hostname: string, protocol: string}} location where the vault runs
 * @param {Date} now the current time
 * @returns {string} the text to assign to document.cookie
 * @throws {TypeError} when status is neither "allow" nor "deny"
 */
export function consentCookieText(status, location, now) {
  if (status !== ALLOW && status !== DENY) {
    throw new TypeError(`consent must be "${ALLOW}" or "${DENY}"`);
  }
  const expires = new Date(now.getTime() + CONSENT_LIFETIME_DAYS * 24 * 3600 * 1000);
  return [
    `${CONSENT_COOKIE}=${status}`,
    `Expires=${expires.toUTCString()}`,
    'Path=/',
    ...crossSiteAttributes(location),
  ].join('; ');
}

/**
 * Reads one cookie from a Cookie header or document.cookie text.
 *
 * @param {string} cookieText "a=1; b=2" as document.cookie gives it
 * @param {string} name the cookie's name
 * @returns {string|null} its value, or null when it is absent
 */
export function readCookie(cookieText, name) {
  for (const pair of cookieText.split(';')) {
    const separator = pair.indexOf('=');
    if (separator !== -1 && pair.slice(0, separator).trim() === name) {
      return pair.slice(separator + 1).trim();
    }
  }
  return null;
}

/**
 * The visitor's consent decision in this browser.
 *
 * @returns {string|null} "allow", "deny", or null when the visitor has not decided
 */
export function readConsent() {
  const value = readCookie(document.cookie, CONSENT_COOKIE);
  return value === ALLOW || value === DENY ? value : null;
}

/**
 * Records the visitor's consent decision for 100 years (it is refreshed on every pageview).
 *
 * @param {string} status "allow" or "deny"
 */
export function writeConsent(status) {
  document.cookie = consentCookieText(status, window.location, new Date());
}

/**
 * Whether this browser lets the vault keep cookies in its current context (a third-party
 * iframe may be refused them). Without cookies no consent can be kept, so nothing is sent.
 *
 * @returns {boolean} true when a test cookie could be written and read back
 */
export function cookiesEnabled() {
  const attributes = ['Path=/', ...crossSiteAttributes(window.location)].join('; ');
  try {
    document.cookie = `ok=1; ${attributes}`;
    const works = readCookie(document.cookie, 'ok') === '1';
    document.cookie = `ok=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; ${attributes}`;
    return works;
  } catch {
    return false;
  }
}

/**
 * The user secret of an account, if this browser has one.
 *
 * @param {string} accountId the account
 * @returns {JsonWebKey|null} the AES key as a JWK
 */
export function loadUserSecret(accountId) {
  const stored = window.localStorage.getItem(SECRET_PREFIX + accountId);
  if (stored === null) {
    return null;
  }
  try {
    return JSON.parse(stored);
  } catch {
    return null;
  }
}

/**
 * Keeps the user secret of an account.
 *
 * @param {string} accountId the account
 * @param {JsonWebKey} jwk the AES key as a JWK
 */
export function saveUserSecret(accountId, jwk) {
  window.localStorage.setItem(SECRET_PREFIX + accountId, JSON.stringify(jwk));
}

/**
 * Forgets the user secret of one account.
 *
 * @param {string} accountId the account
 */
export function removeUserSecret(accountId) {
  window.localStorage.removeItem(SECRET_PREFIX + accountId);
}

/**
 * Every user secret this browser keeps, by account id.
 *
 * @returns {Map<string, JsonWebKey>} the secrets
 */
export function listUserSecrets() {
  const secrets = new Map();
  for (let i = 0; i < window.localStorage.length; i += 1) {
    const key = window.localStorage.key(i);
    if (key !== null && key.startsWith(SECRET_PREFIX)) {
      const accountId = key.slice(SECRET_PREFIX.length);
      const jwk = loadUserSecret(accountId);
      if (jwk !== null) {
        secrets.set(accountId, jwk);
      }
    }
  }
  return secrets;
}

/** Forgets every user secret this browser keeps. */
export function removeAllUserSecrets() {
  for (const accountId of listUserSecrets().keys()) {
    removeUserSecret(accountId);
  }
}

/**
 * The session id of an account: a UUID kept in sessionStorage, so a session lasts as long as
 * the browser tab and is never sent to the server outside an encrypted payload. One id per
 * account, so sessions cannot be linked across accounts.
 *
 * @param {string} accountId the account
 * @returns {string} a UUID; a fresh one for every call when sessionStorage is unavailable
 */
export function sessionIdFor(accountId) {
  try {
    const key = SESSION_PREFIX + accountId;
    let sessionId = window.sessionStorage.getItem(key);
    if (sessionId === null) {
      sessionId = crypto.randomUUID();
      window.sessionStorage.setItem(key, sessionId);
    }
    return sessionId;
  } catch {
    return crypto.randomUUID();
  }
}

function crossSiteAttributes(location) {
  const local = LOCAL_HOSTS.has(location.hostname) || location.protocol !== 'https:';
  return local ? ['SameSite=Lax'] : ['SameSite=None', 'Secure'];
}
