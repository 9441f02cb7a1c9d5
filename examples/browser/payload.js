// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
/**
 * The PAGEVIEW payload: what the vault accepts from the host page and what it encrypts.
 *
 * The host page supplies type, href, referrer, pageload, isMobile and, when a canonical link
 * hides the real address, rawHref. The vault keeps only those members, checks their types,
 * drops the query string of the referrer, and adds what the host page must not choose:
 * timestamp, sessionId and geo. Member order follows Offen's vault.
 *
 * @module payload
 */

/** The longest URL the vault accepts in href, rawHref or referrer, in characters. */
export const MAX_URL_LENGTH = 2000;

/** Thrown for a message from the host page that is not a usable pageview. */
export class InvalidPageviewError extends Error {
  /** @param {string} message what was wrong */
  constructor(message) {
    super(message);
    this.name = 'InvalidPageviewError';
  }
}

/**
 * Checks a pageview sent by the host page and keeps only the members Offen defines.
 *
 * @param {*} candidate the payload of a PAGEVIEW message
 * @returns {{type: string, href: string, referrer: string, pageload: (number|null),
 *     isMobile: boolean, rawHref?: string}} a clean pageview
 * @throws {InvalidPageviewError} when a member is missing or of the wrong kind
 */
export function sanitizePageview(candidate) {
  if (candidate === null || typeof candidate !== 'object') {
    throw new InvalidPageviewError('a pageview is an object');
  }
  if (candidate.type !== 'PAGEVIEW') {
    throw new InvalidPageviewError('type must be "PAGEVIEW"');
  }
  if (typeof candidate.isMobile !== 'boolean') {
    throw new InvalidPageviewError('isMobile must be a boolean');
  }

  const pageview = {
    type: 'PAGEVIEW',
    href: checkPageUrl(candidate.href, 'href'),
    referrer: cleanReferrer(candidate.referrer),
    pageload: checkPageload(candidate.pageload),
    isMobile: candidate.isMobile,
  };
  if (candidate.rawHref !== undefined) {
    pageview.rawHref = checkPageUrl(candidate.rawHref, 'rawHref');
  }
  return pageview;
}

/**
 * Drops the query string of a referrer, keeping its path and fragment, as Offen's vault does.
 *
 * @param {*} referrer the host page's document.referrer
 * @returns {string} the cleaned referrer, or "" when there is none or it is not a URL
 */
export function cleanReferrer(referrer) {
  if (typeof referrer !== 'string' || referrer === '' || referrer.length > MAX_URL_LENGTH) {
    return '';
  }
  try {
    const url = new URL(referrer);
    url.search = '';
    return url.toString();
  } catch {
    return '';
  }
}

/**
 * Adds the members only the vault sets and returns the payload to encrypt.
 *
 * @param {object} pageview a pageview from sanitizePageview
 * @param {{timestamp: string, sessionId: string, geo: (string|null)}} context the time
 *     (ISO 8601, from new Date().toISOString()), the session of this account and the country
 * @returns {object} the payload, members in Offen's order
 */
export function completePayload(pageview, { timestamp, sessionId, geo }) {
  return { ...pageview, timestamp, sessionId, geo };
}

function checkPageUrl(value, name) {
  if (typeof value !== 'string' || value.length > MAX_URL_LENGTH) {
    throw new InvalidPageviewError(`${name} must be a URL of at most ${MAX_URL_LENGTH} characters`);
  }
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidPageviewError(`${name} must be an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidPageviewError(`${name} must be an http or https URL`);
  }
  return value;
}

function checkPageload(value) {
  if (value === null || value === undefined) {
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidPageviewError('pageload must be a number of milliseconds or null');
  }
  return Math.round(value);
}
