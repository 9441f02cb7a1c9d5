// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
// The vault's logic that runs without a page: payload checks, country lookup, the consent
// cookie, and the exchange with its retry, against a fake server in memory.
//
// Run with `node --test tests/browser/vault.test.mjs` (Node 20 or later).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { decryptAsymmetric, decryptSymmetric } from '../../examples/browser/crypto.js';
import { countryForTimeZone } from '../../examples/browser/geo.js';
import {
  InvalidPageviewError,
  MAX_URL_LENGTH,
  cleanReferrer,
  completePayload,
  sanitizePageview,
} from '../../examples/browser/payload.js';
import { ensureUserSecret, relayEvent } from '../../examples/browser/relay.js';
import { consentCookieText, readCookie } from '../../examples/browser/store.js';

const ACCOUNT_ID = '9b63c4d8-65c0-438c-9d30-cc4b01173393';

function pageviewFromHost(overrides = {}) {
  return {
    type: 'PAGEVIEW',
    href: 'https://www.example.com/blog/?utm_source=news',
    referrer: 'https://search.example/?q=secret#top',
    pageload: 812.4,
    isMobile: false,
    ...overrides,
  };
}

describe('pageviews from the host page', () => {
  test('keep Offen\'s members in Offen\'s order and nothing else', () => {
    const pageview = sanitizePageview(pageviewFromHost({ secretId: 'x', timestamp: 'forged' }));

    assert.deepEqual(Object.keys(pageview), ['type', 'href', 'referrer', 'pageload', 'isMobile']);
    assert.equal(pageview.href, 'https://www.example.com/blog/?utm_source=news');
    assert.equal(pageview.pageload, 812);
  });

  test('keep rawHref when the host page sent one', () => {
    const rawHref = 'https://www.example.com/b?x=1';
    const pageview = sanitizePageview(pageviewFromHost({ rawHref }));
    assert.equal(pageview.rawHref, rawHref);
  });

  test('lose the referrer\'s query string but keep its path and fragment', () => {
    assert.equal(
      cleanReferrer('https://search.example/find?q=secret#top'),
      'https://search.example/find#top',
    );
    assert.equal(cleanReferrer(''), '');
    assert.equal(cleanReferrer('not a url'), '');
    assert.equal(cleanReferrer(undefined), '');
  });

  test('take a missing pageload as null', () => {
    assert.equal(sanitizePageview(pageviewFromHost({ pageload: null })).pageload, null);
    assert.equal(sanitizePageview(pageviewFromHost({ pageload: undefined })).pageload, null);
  });

  const invalid = {
    'not an object': null,
    'another type': pageviewFromHost({ type: 'CLICK' }),
    'a relative href': pageviewFromHost({ href: '/blog/' }),
    'a javascript: href': pageviewFromHost({ href: 'javascript:alert(1)' }),
    'an href that is too long': pageviewFromHost({
      href: `https://www.example.com/${'a'.repeat(MAX_URL_LENGTH)}`,
    }),
    'a rawHref that is not a URL': pageviewFromHost({ rawHref: 42 }),
    'a pageload that is text': pageviewFromHost({ pageload: '800' }),
    'an infinite pageload': pageviewFromHost({ pageload: Infinity }),
    'isMobile as text': pageviewFromHost({ isMobile: 'false' }),
  };
  for (const [name, candidate] of Object.entries(invalid)) {
    test(`refuse ${name}`, () => {
      assert.throws(() => sanitizePageview(candidate), InvalidPageviewError);
    });
  }

  test('are completed with time, session and country after the host page\'s members', () => {
    const payload = completePayload(sanitizePageview(pageviewFromHost()), {
      timestamp: '2026-12-03T10:00:00.000Z',
      sessionId: 'c5b8a4f0-7ac0-4c1c-9d0a-0f8f3c7a1b2e',
      geo: 'DE',
    });

    assert.deepEqual(Object.keys(payload).slice(-3), ['timestamp', 'sessionId', 'geo']);
    assert.equal(payload.referrer, 'https://search.example/#top');
  });
});

describe('country from the time zone', () => {
  test('is found whatever the case of the zone name', () => {
    assert.equal(countryForTimeZone('Europe/Berlin'), 'DE');
    assert.equal(countryForTimeZone('AMERICA/NEW_YORK'), 'US');
    assert.equal(countryForTimeZone('asia/tokyo'), 'JP');
  });

  test('is null for zones without a country and for non-strings', () => {
    assert.equal(countryForTimeZone('UTC'), null);
    assert.equal(countryForTimeZone('Etc/GMT+2'), null);
    assert.equal(countryForTimeZone('constructor'), null);
    assert.equal(countryForTimeZone(undefined), null);
  });
});

describe('the consent cookie', () => {
  const now = new Date('2026-01-01T00:00:00Z');

  test('is SameSite=None; Secure over https', () => {
    const location = { hostname: 'analytics.example', protocol: 'https:' };
    const text = consentCookieText('allow', location, now);
    assert.equal(
      text,
      'consent=allow; Expires=Sat, 08 Dec 2125 00:00:00 GMT; Path=/; SameSite=None; Secure',
    );
  });

  test('is SameSite=Lax without Secure on localhost and over http', () => {
    for (const location of [
      { hostname: 'localhost', protocol: 'https:' },
      { hostname: '127.0.0.1', protocol: 'http:' },
      { hostname: 'analytics.example', protocol: 'http:' },
    ]) {
      const text = consentCookieText('deny', location, now);
      assert.match(text, /^consent=deny; Expires=[^;]+; Path=\/; SameSite=Lax$/);
    }
  });

  test('refuses a value other than allow or deny', () => {
    const location = { hostname: 'localhost', protocol: 'http:' };
    assert.throws(() => consentCookieText('maybe', location, now), TypeError);
  });

  test('is read from document.cookie text', () => {
    assert.equal(readCookie('session=1; consent=allow; other=x=y', 'consent'), 'allow');
    assert.equal(readCookie('other=x=y', 'other'), 'x=y');
    assert.equal(readCookie('notconsent=allow', 'consent'), null);
    assert.equal(readCookie('', 'consent'), null);
  });
});

/** A server in memory that keeps what it is sent and answers like Offen's routes. */
async function fakeServer() {
  const pair = await crypto.subtle.generateKey(
    {
      name: 'RSA-OAEP',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['encrypt', 'decrypt'],
  );
  const server = {
    publicJwk: await crypto.subtle.exportKey('jwk', pair.publicKey),
    privateKey: pair.privateKey,
    calls: [],
    storedSecrets: [],
    events: [],
    // Answers to postEvent in turn; an Error is thrown, anything else returned.
    eventAnswers: [],
  };
  server.api = {
    async getPublicKey(accountId) {
      server.calls.push(['getPublicKey', accountId]);
      return server.publicJwk;
    },
    async postUserSecret(accountId, encryptedSecret) {
      server.calls.push(['postUserSecret', accountId]);
      server.storedSecrets.push(encryptedSecret);
      return null;
    },
    async postEvent(accountId, payload) {
      server.calls.push(['postEvent', accountId]);
      server.events.push(payload);
      const answer = server.eventAnswers.length > 0 ? server.eventAnswers.shift() : { ack: true };
      if (answer instanceof Error) {
        throw answer;
      }
      return answer;
    },
  };
  return server;
}

function memorySecrets() {
  const map = new Map();
  return {
    map,
    load: (accountId) => map.get(accountId) ?? null,
    save: (accountId, jwk) => map.set(accountId, jwk),
    remove: (accountId) => map.delete(accountId),
  };
}

function httpError(status) {
  return Object.assign(new Error(`HTTP ${status}`), { status });
}

describe('the exchange and relaying events', () => {
  test('the first event exchanges a secret the server can unwrap, then is sent', async () => {
    const server = await fakeServer();
    const secrets = memorySecrets();
    const payload = { type: 'PAGEVIEW', href: 'https://www.example.com/' };

    const answer = await relayEvent(ACCOUNT_ID, payload, { api: server.api, secrets });

    assert.deepEqual(answer, { ack: true });
    assert.deepEqual(
      server.calls.map(([name]) => name),
      ['getPublicKey', 'postUserSecret', 'postEvent'],
    );
    const unwrapped = await decryptAsymmetric(server.privateKey, server.storedSecrets[0]);
    assert.deepEqual(unwrapped, secrets.map.get(ACCOUNT_ID));
    assert.notEqual(server.events[0], JSON.stringify(payload));
    assert.deepEqual(await decryptSymmetric(unwrapped, server.events[0]), payload);
  });

  test('later events reuse the kept secret without another exchange', async () => {
    const server = await fakeServer();
    const deps = { api: server.api, secrets: memorySecrets() };

    await relayEvent(ACCOUNT_ID, { n: 1 }, deps);
    await relayEvent(ACCOUNT_ID, { n: 2 }, deps);

    assert.equal(server.storedSecrets.length, 1);
    assert.equal(server.events.length, 2);
  });

  test('a 400 answer exchanges a new secret and sends the event exactly once more', async () => {
    const server = await fakeServer();
    const secrets = memorySecrets();
    const deps = { api: server.api, secrets };
    await relayEvent(ACCOUNT_ID, { n: 1 }, deps);
    const oldSecret = secrets.map.get(ACCOUNT_ID);
    server.eventAnswers.push(httpError(400));

    await relayEvent(ACCOUNT_ID, { n: 2 }, deps);

    assert.equal(server.storedSecrets.length, 2);
    assert.notDeepEqual(secrets.map.get(ACCOUNT_ID), oldSecret);
    assert.equal(server.events.length, 3);
    const newSecret = secrets.map.get(ACCOUNT_ID);
    assert.deepEqual(await decryptSymmetric(newSecret, server.events[2]), { n: 2 });
  });

  test('a second 400 is not retried again', async () => {
    const server = await fakeServer();
    server.eventAnswers.push(httpError(400), httpError(400));

    await assert.rejects(
      relayEvent(ACCOUNT_ID, { n: 1 }, { api: server.api, secrets: memorySecrets() }),
      { status: 400 },
    );
    assert.equal(server.events.length, 2);
  });

  test('other errors are passed on without a retry', async () => {
    for (const status of [404, 429, 500]) {
      const server = await fakeServer();
      server.eventAnswers.push(httpError(status));

      await assert.rejects(
        relayEvent(ACCOUNT_ID, { n: 1 }, { api: server.api, secrets: memorySecrets() }),
        { status },
      );
      assert.equal(server.events.length, 1);
    }
  });

  test('a failed exchange keeps no secret and passes the error on unchanged', async () => {
    const server = await fakeServer();
    const secrets = memorySecrets();
    const failure = httpError(404);
    server.api.postUserSecret = async () => {
      throw failure;
    };

    await assert.rejects(
      ensureUserSecret(ACCOUNT_ID, { api: server.api, secrets }),
      (error) => error === failure,
    );
    assert.equal(secrets.map.size, 0);
  });
});
