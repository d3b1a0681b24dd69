// The maintenance page: checks every 30 seconds (or sooner, as the server's Retry-After
// says) whether the service is back, and then reloads the page, which takes the person back
// to their form. Without JavaScript the page's meta refresh does the same.
//
// Each check comes a little before the Retry-After is up (75-95 % of it, at random), so that
// the person is back on the form within 30 seconds of the end, the reload included, and the
// pages of many people do not all ask at the same moment.
//
// The service is back only when the server itself answers the page's address with 2xx. Not
// when it cannot be reached (a network error, or no answer within CHECK_TIMEOUT_MS: alive but
// hung), nor when a gateway answers in its place (502, 504, …), nor when the answer is the
// service worker's kept copy of the form (header Holdfast-Copy): those are looked at again
// later, as a 503 is.
(() => {
  "use strict";
  const root = document.querySelector("[data-maintenance-retry]");
  const status = document.querySelector("[data-maintenance-status]");
  const seconds = (value) => Math.min(30, Math.max(1, Number(value) || 30));
  const later = (wait) => setTimeout(check, wait * (750 + Math.random() * 200));
  const CHECK_TIMEOUT_MS = 10000;
  let wait = seconds(root && root.dataset.maintenanceRetry);

  async function check() {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), CHECK_TIMEOUT_MS);
    try {
      const response = await fetch(location.href, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { Accept: "text/html" },
        signal: abort.signal,
      });
      if (response.ok && !response.headers.has("Holdfast-Copy")) {
        if (status) status.textContent = "The service is back. Taking you to your form…";
        location.reload();
        return;
      }
      if (response.status === 503) wait = seconds(response.headers.get("Retry-After"));
    } catch (_) {
      // Offline, the server is restarting, or it does not answer: look again later.
    } finally {
      clearTimeout(timer);
    }
    later(wait);
  }

  later(wait);
})();
