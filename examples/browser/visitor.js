// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
/**
 * The visitor's own data page, served at /visitor/ from the vault's origin.
 *
 * It fetches the events of this browser's visitor from every account (GET /api/events),
 * decrypts each payload here with the user secret the vault keeps for its account, and lists
 * them. The visitor can delete them (POST /api/purge) or opt out (consent=deny and
 * POST /api/purge?user=1, which also forgets the visitor id; the user secrets are then useless
 * and are removed too).
 *
 * @module visitor
 */

import { ApiError, getEvents, purge } from './api.js';
import { decryptSymmetric } from './crypto.js';
import {
  ALLOW,
  DENY,
  listUserSecrets,
  readConsent,
  removeAllUserSecrets,
  writeConsent,
} from './store.js';

const elements = {
  status: document.getElementById('events-status'),
  table: document.getElementById('events-table'),
  rows: document.getElementById('events-rows'),
  deleteButton: document.getElementById('delete-events'),
  consentStatus: document.getElementById('consent-status'),
  optOutButton: document.getElementById('opt-out'),
  optInButton: document.getElementById('opt-in'),
};

const CONSENT_TEXT = {
  [ALLOW]: 'You allowed the collection of anonymous usage statistics.',
  [DENY]: 'You opted out: nothing is collected from this browser.',
  none: 'You have not decided yet; nothing is collected until you allow it.',
};

/**
 * Fetches this visitor's events and decrypts those whose account secret this browser keeps.
 *
 * @returns {Promise<{events: Array<object>, unreadable: number}>} decrypted events, newest
 *     first, as {eventId, accountId, payload}, and how many could not be decrypted
 */
async function loadEvents() {
  let response;
  try {
    response = await getEvents();
  } catch (error) {
    // 400: this browser has no visitor id yet, so there is nothing to show.
    if (error instanceof ApiError && error.status === 400) {
      return { events: [], unreadable: 0 };
    }
    throw error;
  }

  const secrets = listUserSecrets();
  const events = [];
  let unreadable = 0;
  for (const [accountId, accountEvents] of Object.entries(response?.events ?? {})) {
    for (const event of accountEvents) {
      const payload = await decryptWith(secrets.get(accountId), event.payload);
      if (payload === null) {
        unreadable += 1;
      } else {
        events.push({ eventId: event.eventId, accountId, payload });
      }
    }
  }
  // Event ids are ULIDs: their text order is their time order.
  events.sort((a, b) => (a.eventId < b.eventId ? 1 : -1));
  return { events, unreadable };
}

async function decryptWith(secret, cipher) {
  if (secret === undefined) {
    return null;
  }
  try {
    return await decryptSymmetric(secret, cipher);
  } catch {
    return null;
  }
}

function renderEvents({ events, unreadable }) {
  elements.rows.replaceChildren(...events.map(eventRow));
  elements.table.hidden = events.length === 0;

  const parts = [
    events.length === 0
      ? 'There are no events from this browser.'
      : `${events.length} ${events.length === 1 ? 'event' : 'events'} from this browser.`,
  ];
  if (unreadable > 0) {
    parts.push(
      `${unreadable} more could not be decrypted here: their key is kept by another browser ` +
        'or was removed.',
    );
  }
  setStatus(parts.join(' '));
}

function eventRow({ payload }) {
  const row = document.createElement('tr');
  row.append(timeCell(payload.timestamp), textCell(payload.href), textCell(payload.referrer));
  return row;
}

function timeCell(timestamp) {
  const cell = document.createElement('td');
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) {
    cell.textContent = String(timestamp ?? '');
    return cell;
  }
  const time = document.createElement('time');
  time.dateTime = date.toISOString();
  time.textContent = date.toLocaleString();
  cell.append(time);
  return cell;
}

/** Shows text as text: payloads come from any host page and are never parsed as HTML. */
function textCell(value) {
  const cell = document.createElement('td');
  cell.textContent = typeof value === 'string' && value !== '' ? value : '(none)';
  return cell;
}

function renderConsent() {
  const consent = readConsent();
  elements.consentStatus.textContent = CONSENT_TEXT[consent ?? 'none'];
  elements.optOutButton.hidden = consent === DENY;
  elements.optInButton.hidden = consent !== DENY;
}

function setStatus(text) {
  elements.status.textContent = text;
}

/** Purges on the server; a 400 means there was no visitor id, so nothing to delete. */
async function purgeTolerant(options) {
  try {
    await purge(options);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 400)) {
      throw error;
    }
  }
}

async function refresh() {
  renderConsent();
  try {
    renderEvents(await loadEvents());
  } catch (error) {
    setStatus(`Your events could not be loaded (${error.message}). Please try again later.`);
  }
}

/** Buttons stay enabled (a disabled button would drop the keyboard focus); this flag stops a
 * second click while a request runs. */
let busy = false;

async function whileNotBusy(action) {
  if (busy) {
    return;
  }
  busy = true;
  try {
    await action();
  } finally {
    busy = false;
  }
}

async function onDelete() {
  setStatus('Deleting your events…');
  try {
    await purgeTolerant({});
    await refresh();
    setStatus('Your events were deleted.');
  } catch (error) {
    setStatus(`Your events could not be deleted (${error.message}). Please try again.`);
  }
}

async function onOptOut() {
  writeConsent(DENY);
  setStatus('Opting out…');
  try {
    await purgeTolerant({ forgetUser: true });
    removeAllUserSecrets();
    await refresh();
    setStatus('You opted out and your events were deleted.');
  } catch (error) {
    renderConsent();
    setStatus(`You opted out, but your events could not be deleted (${error.message}).`);
  }
  elements.optInButton.focus();
}

function onOptIn() {
  writeConsent(ALLOW);
  renderConsent();
  setStatus('You allowed anonymous usage statistics again.');
  elements.optOutButton.focus();
}

elements.deleteButton.addEventListener('click', () => whileNotBusy(onDelete));
elements.optOutButton.addEventListener('click', () => whileNotBusy(onOptOut));
elements.optInButton.addEventListener('click', onOptIn);
refresh();
