// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
/**
 * The page behind the links of invitation and password reset mails, served at
 * /join/<token>/ and /reset-password/<token>/.
 *
 * The server sends the same page for every token; the token, and which of the two flows this
 * is, come from the page's own address. The operator gives their email address and a new
 * password twice. Before anything is sent, the page checks that the two passwords are equal
 * and that the password has from 8 to 64 characters (the server's policy, counted in Unicode
 * code points as the server counts them). It then posts {emailAddress, password, token} as
 * JSON to POST /api/join or POST /api/reset-password and shows either the outcome or the
 * server's error message. In recovery-key mode a join answers the operator's recovery key,
 * which is shown here once and kept nowhere else.
 *
 * @module operator
 */

const MIN_PASSWORD_CHARS = 8;
const MAX_PASSWORD_CHARS = 64;

const FLOWS = {
  join: {
    endpoint: '/api/join',
    title: 'Accept your invitation',
    intro:
      'You were invited to see the analytics of one or more accounts. Give the email ' +
      'address the invitation was sent to and choose the password you will log in with. ' +
      'If you already log in to this server, give the password you use there.',
    submit: 'Join',
    sending: 'Joining…',
    doneHeading: 'Invitation accepted',
    done: 'You have joined. Log in with your email address and this password from now on.',
  },
  'reset-password': {
    endpoint: '/api/reset-password',
    title: 'Choose a new password',
    intro:
      'Give the email address the reset link was sent to and choose a new password. Your ' +
      'old password stops working once the new one is set.',
    submit: 'Set the new password',
    sending: 'Setting the new password…',
    doneHeading: 'Password changed',
    done: 'Your password was changed. Log in with your email address and the new password.',
  },
};

const elements = {
  heading: document.getElementById('operator-heading'),
  intro: document.getElementById('operator-intro'),
  form: document.getElementById('operator-form'),
  email: document.getElementById('email'),
  password: document.getElementById('password'),
  repeat: document.getElementById('password-repeat'),
  error: document.getElementById('form-error'),
  submit: document.getElementById('submit'),
  status: document.getElementById('form-status'),
  done: document.getElementById('done'),
  doneHeading: document.getElementById('done-heading'),
  doneText: document.getElementById('done-text'),
  recovery: document.getElementById('recovery'),
  recoveryKey: document.getElementById('recovery-key'),
};

/** An answer of 400 or above, with the server's explanation. */
class ServerError extends Error {
  /**
   * @param {number} status the HTTP status
   * @param {string} message the "error" member of the JSON answer, or a stand-in
   * @param {string|null} retryAfter the Retry-After header of a 429
   */
  constructor(status, message, retryAfter) {
    super(message);
    this.name = 'ServerError';
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/**
 * Reads the flow and the token from an address path.
 *
 * @param {string} pathname location.pathname
 * @returns {{flow: object, token: string}|null} null when the path is not a mailed link
 */
function readLink(pathname) {
  const found = /^\/(join|reset-password)\/([^/]+)\/?$/.exec(pathname);
  if (found === null) {
    return null;
  }
  try {
    return { flow: FLOWS[found[1]], token: decodeURIComponent(found[2]) };
  } catch {
    return null;
  }
}

/**
 * Checks the form's values before anything is sent.
 *
 * @returns {{field: HTMLInputElement, message: string}|null} the first problem, or null
 */
function firstProblem() {
  const email = elements.email.value.trim();
  const password = elements.password.value;
  // The server counts code points; String.length would count an emoji twice.
  const length = Array.from(password).length;

  if (email === '' || !elements.email.validity.valid) {
    return { field: elements.email, message: 'Enter the email address this link was sent to.' };
  }
  if (length < MIN_PASSWORD_CHARS || length > MAX_PASSWORD_CHARS) {
    return {
      field: elements.password,
      message:
        `The password must have from ${MIN_PASSWORD_CHARS} to ${MAX_PASSWORD_CHARS} ` +
        `characters; this one has ${length}.`,
    };
  }
  if (elements.repeat.value !== password) {
    return {
      field: elements.repeat,
      message: 'The two passwords differ. Type the same password in both fields.',
    };
  }
  return null;
}

/**
 * Posts a JSON body to the server of this page, with its cookies.
 *
 * @param {string} path the route
 * @param {object} body the request body
 * @returns {Promise<object|null>} the JSON answer, or null for 204
 * @throws {ServerError} for an answer of 400 or above
 */
async function postJson(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'include',
    cache: 'no-store',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let answer = null;
  try {
    answer = text === '' ? null : JSON.parse(text);
  } catch {
    answer = null;
  }
  if (response.status >= 400) {
    const message =
      typeof answer?.error === 'string' && answer.error !== ''
        ? answer.error
        : `the server answered with status ${response.status}`;
    throw new ServerError(response.status, message, response.headers.get('Retry-After'));
  }
  return answer;
}

function describe(error) {
  if (!(error instanceof ServerError)) {
    return 'The server could not be reached. Check your connection and try again.';
  }
  const sentence = error.message.charAt(0).toUpperCase() + error.message.slice(1);
  const parts = [/[.!?]$/.test(sentence) ? sentence : `${sentence}.`];
  if (error.status === 429 && error.retryAfter !== null) {
    parts.push(`Try again in ${error.retryAfter} seconds.`);
  }
  return parts.join(' ');
}

function showError(text, field = null) {
  elements.error.textContent = text;
  for (const input of [elements.email, elements.password, elements.repeat]) {
    if (input === field) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-errormessage', elements.error.id);
    } else {
      input.removeAttribute('aria-invalid');
      input.removeAttribute('aria-errormessage');
    }
  }
  if (field !== null) {
    field.focus();
  }
}

function showDone(flow, answer) {
  elements.password.value = '';
  elements.repeat.value = '';
  elements.form.hidden = true;
  elements.intro.hidden = true;
  elements.doneHeading.textContent = flow.doneHeading;
  elements.doneText.textContent = flow.done;
  const recoveryKey = answer?.recoveryKey;
  if (typeof recoveryKey === 'string' && recoveryKey !== '') {
    elements.recoveryKey.textContent = recoveryKey;
    elements.recovery.hidden = false;
  }
  elements.done.hidden = false;
  elements.done.focus();
}

/** The submit button stays enabled (a disabled button would drop the keyboard focus); this
 * flag stops a second submission while one runs. */
let busy = false;

async function onSubmit(event, flow, token) {
  event.preventDefault();
  if (busy) {
    return;
  }
  const problem = firstProblem();
  if (problem !== null) {
    showError(problem.message, problem.field);
    return;
  }

  busy = true;
  showError('');
  elements.status.textContent = flow.sending;
  try {
    const answer = await postJson(flow.endpoint, {
      emailAddress: elements.email.value.trim(),
      password: elements.password.value,
      token,
    });
    elements.status.textContent = '';
    showDone(flow, answer);
  } catch (error) {
    elements.status.textContent = '';
    showError(describe(error));
  } finally {
    busy = false;
  }
}

function start() {
  const link = readLink(window.location.pathname);
  if (link === null) {
    elements.form.hidden = true;
    elements.intro.textContent =
      'This address is not a complete link. Open the link from your mail again.';
    return;
  }
  const { flow, token } = link;
  document.title = flow.title;
  elements.heading.textContent = flow.title;
  elements.intro.textContent = flow.intro;
  elements.submit.textContent = flow.submit;
  elements.form.addEventListener('submit', (event) => onSubmit(event, flow, token));
}

start();
