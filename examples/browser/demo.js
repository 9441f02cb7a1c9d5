// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
/**
 * The demo host page's own script: buttons that change the address through the History API,
 * so that the tracker's single-page navigation can be tried out. It knows nothing about
 * analytics; the tracker notices the navigation by itself.
 */
(function demo() {
  'use strict';

  const currentPage = document.getElementById('current-page');

  function showAddress() {
    currentPage.textContent = `You are on ${window.location.pathname}${window.location.search}`;
  }

  function onClick(event) {
    const button = event.target.closest('button');
    if (!button) {
      return;
    }
    if (button.dataset.pushPath) {
      history.pushState({}, '', button.dataset.pushPath);
    } else if (button.dataset.replaceQuery) {
      history.replaceState({}, '', `?${button.dataset.replaceQuery}`);
    } else if (button.hasAttribute('data-history-back')) {
      history.back();
      return;
    }
    showAddress();
  }

  document.addEventListener('click', onClick);
  window.addEventListener('popstate', showAddress);
  showAddress();
})();
