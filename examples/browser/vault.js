// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
/**
 * The vault: the page the tracker loads in a hidden iframe from the analytics server.
 *
 * It is the only code that holds the user secret. It accepts PAGEVIEW messages from the page
 * that embeds it (and from no other window), asks for consent with a banner the first time,
 * adds timestamp, session id and country, encrypts and posts the event. It answers the host
 * page only with SHOW_BANNER (with the banner's height) and HIDE_BANNER, so the tracker can
 * show the iframe while the banner is up.
 *
 * Served at /vault/?accountId=<uuid>; see docs/guides/browser.md.
 *
 * @module vault
 */

import * as api from './api.js';
import { currentCountry } from './geo.js';
import { completePayload, sanitizePageview } from './payload.js';
import { relayEvent } from './relay.js';
import {
  ALLOW,
  DENY,
  cookiesEnabled,
  loadUserSecret,
  readConsent,
  removeUserSecret,
  saveUserSecret,
  sessionIdFor,
  writeConsent,
} from './store.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const deps = {
  api,
  secrets: { load: loadUserSecret, save: saveUserSecret, remove: removeUserSecret },
};

const state = {
  accountId: new URLSearchParams(window.location.search).get('accountId'),
  parentOrigin: null,
  waitingForConsent: [],
  sending: Promise.resolve(),
};

function start() {
  if (window.parent === window) {
    return;
  }
  if (!UUID_PATTERN.test(state.accountId ?? '')) {
    console.warn('vault: the accountId query parameter must be a UUID; nothing will be sent');
    return;
  }

  window.addEventListener('message', onMessage);
  document.getElementById('consent-allow').addEventListener('click', () => decide(ALLOW));
  document.getElementById('consent-deny').addEventListener('click', () => decide(DENY));
  window.addEventListener('resize', () => {
    if (bannerIsShown()) {
      tellParent({ type: 'SHOW_BANNER', height: bannerHeight() });
    }
  });
}

/**
 * Accepts messages from the embedding window only. The first message pins that window's
 * origin; later messages from another origin (the parent navigated away) are ignored.
 */
function onMessage(event) {
  if (event.source !== window.parent || event.origin === 'null') {
    return;
  }
  if (state.parentOrigin === null) {
    state.parentOrigin = event.origin;
  } else if (event.origin !== state.parentOrigin) {
    return;
  }
  if (event.data?.type !== 'PAGEVIEW') {
    return;
  }

  let pageview;
  try {
    pageview = sanitizePageview(event.data.payload);
  } catch (error) {
    console.warn(`vault: ignored a pageview: ${error.message}`);
    return;
  }
  handlePageview(pageview);
}

function handlePageview(pageview) {
  if (!cookiesEnabled()) {
    return;
  }
  const context = { timestamp: new Date().toISOString() };
  const consent = readConsent();

  if (consent === ALLOW) {
    // Refreshing the cookie keeps the decision alive for as long as the visitor comes back.
    writeConsent(ALLOW);
    send(pageview, context);
  } else if (consent === null) {
    state.waitingForConsent.push({ pageview, context });
    showBanner();
  }
}

/** Sends events one after the other, so that two early pageviews cannot run two exchanges. */
function send(pageview, { timestamp }) {
  const payload = completePayload(pageview, {
    timestamp,
    sessionId: sessionIdFor(state.accountId),
    geo: currentCountry(),
  });
  state.sending = state.sending
    .then(() => relayEvent(state.accountId, payload, deps))
    .catch((error) => console.warn(`vault: an event was not sent (${error.message})`));
}

function decide(status) {
  writeConsent(status);
  hideBanner();

  const waiting = state.waitingForConsent;
  state.waitingForConsent = [];
  if (status === ALLOW) {
    for (const { pageview, context } of waiting) {
      send(pageview, context);
    }
  }
}

function showBanner() {
  if (bannerIsShown()) {
    return;
  }
  document.getElementById('consent-banner').hidden = false;
  tellParent({ type: 'SHOW_BANNER', height: bannerHeight() });
}

function hideBanner() {
  document.getElementById('consent-banner').hidden = true;
  tellParent({ type: 'HIDE_BANNER' });
}

function bannerIsShown() {
  return !document.getElementById('consent-banner').hidden;
}

function bannerHeight() {
  return Math.ceil(document.getElementById('consent-banner').getBoundingClientRect().height);
}

function tellParent(message) {
  if (state.parentOrigin !== null) {
    window.parent.postMessage(message, state.parentOrigin);
  }
}

start();
