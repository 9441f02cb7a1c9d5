// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
/**
 * The tracker for the host page:
 *
 *     <script src="https://analytics.example/script.js" data-account-id="<uuid>" defer></script>
 *
 * It loads the vault (<script origin>/vault/?accountId=<uuid>) in an iframe and sends it a
 * PAGEVIEW message when the page has loaded and after every history navigation (pushState,
 * replaceState, popstate). It never sees the user secret, the consent cookie or the session:
 * those live in the vault's origin. While the vault shows its consent banner, the iframe is a
 * strip at the bottom of the window; otherwise it takes no space and cannot be seen or focused.
 *
 * A classic script (not a module), so that document.currentScript names its own tag.
 */
(function tracker() {
  'use strict';

  const script = document.currentScript;
  if (!script || !script.dataset.accountId) {
    console.warn('offen_core tracker: the script tag needs a data-account-id attribute');
    return;
  }

  const vaultOrigin = new URL(script.src, window.location.href).origin;
  const vaultUrl = new URL('/vault/', vaultOrigin);
  vaultUrl.searchParams.set('accountId', script.dataset.accountId);

  const iframe = createVaultFrame(vaultUrl);
  const outbox = [];
  let vaultLoaded = false;
  let lastHref = null;

  /** Makes the iframe; hidden styles are set through the CSSOM, which a strict CSP allows. */
  function createVaultFrame(url) {
    const frame = document.createElement('iframe');
    frame.src = url.href;
    frame.title = 'Consent for anonymous usage statistics';
    frame.referrerPolicy = 'no-referrer';
    Object.assign(frame.style, {
      position: 'fixed',
      left: '0',
      right: '0',
      bottom: '0',
      width: '100%',
      maxHeight: '50vh',
      border: 'none',
      margin: '0',
      padding: '0',
      zIndex: '2147483647',
      colorScheme: 'normal',
    });
    hideFrame(frame);
    return frame;
  }

  function hideFrame(frame) {
    frame.style.height = '0';
    frame.style.visibility = 'hidden';
  }

  function showFrame(frame, height) {
    frame.style.height = `${height}px`;
    frame.style.visibility = 'visible';
  }

  /** Accepts messages from the vault's window and origin only. */
  function onMessage(event) {
    if (event.origin !== vaultOrigin || event.source !== iframe.contentWindow) {
      return;
    }
    const message = event.data;
    if (message?.type === 'SHOW_BANNER' && Number.isFinite(message.height)) {
      showFrame(iframe, Math.max(0, Math.ceil(message.height)));
    } else if (message?.type === 'HIDE_BANNER') {
      hideFrame(iframe);
      iframe.blur();
    }
  }

  function postToVault(message) {
    if (vaultLoaded) {
      iframe.contentWindow.postMessage(message, vaultOrigin);
    } else {
      outbox.push(message);
    }
  }

  function onVaultLoaded() {
    vaultLoaded = true;
    while (outbox.length > 0) {
      iframe.contentWindow.postMessage(outbox.shift(), vaultOrigin);
    }
  }

  /** The page's canonical URL, resolved against the current address, or null. */
  function canonicalHref() {
    const link = document.querySelector('link[rel="canonical"][href]');
    if (!link) {
      return null;
    }
    try {
      return new URL(link.getAttribute('href'), window.location.href).href;
    } catch {
      return null;
    }
  }

  /** Milliseconds from the start of navigation to the end of DOMContentLoaded, or null. */
  function pageloadTime() {
    const [entry] = performance.getEntriesByType('navigation');
    if (!entry || !entry.domContentLoadedEventEnd) {
      return null;
    }
    return Math.round(entry.domContentLoadedEventEnd - entry.startTime);
  }

  /** The fields Offen's script collects; the vault adds time, session and country. */
  function pageview(isFirst) {
    const canonical = canonicalHref();
    const event = {
      type: 'PAGEVIEW',
      href: canonical ?? window.location.href,
      referrer: document.referrer,
      pageload: isFirst ? pageloadTime() : null,
      isMobile: typeof window.onorientationchange !== 'undefined',
    };
    if (canonical !== null && canonical !== window.location.href) {
      event.rawHref = window.location.href;
    }
    return event;
  }

  function sendPageview(isFirst) {
    lastHref = window.location.href;
    postToVault({ type: 'PAGEVIEW', payload: pageview(isFirst) });
  }

  /** A history change that leaves the address as it was (a state update) is no new page. */
  function onNavigation() {
    if (window.location.href !== lastHref) {
      sendPageview(false);
    }
  }

  function watchHistory() {
    for (const name of ['pushState', 'replaceState']) {
      const original = history[name];
      history[name] = function navigate(...args) {
        const result = original.apply(this, args);
        onNavigation();
        return result;
      };
    }
    window.addEventListener('popstate', onNavigation);
  }

  /** Whether DOMContentLoaded has finished (true when the browser has no navigation timing). */
  function domContentLoadedEnded() {
    const [entry] = performance.getEntriesByType('navigation');
    return !entry || entry.domContentLoadedEventEnd > 0;
  }

  /**
   * Runs the callback once DOMContentLoaded has finished, so that the body exists and the
   * navigation timing has its end time. A deferred script runs before that event, while the
   * document is already "interactive"; a script added later may run after it.
   */
  function whenDomContentLoaded(callback) {
    if (document.readyState === 'loading' || !domContentLoadedEnded()) {
      document.addEventListener('DOMContentLoaded', () => setTimeout(callback, 0), { once: true });
    } else {
      callback();
    }
  }

  window.addEventListener('message', onMessage);
  iframe.addEventListener('load', onVaultLoaded, { once: true });
  whenDomContentLoaded(() => {
    // First in the tab order, so keyboard users reach the banner before the page.
    document.body.prepend(iframe);
    watchHistory();
    sendPageview(true);
  });
})();
