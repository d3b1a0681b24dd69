// The maintenance page: checks every 30 seconds (or sooner, as the server's Retry-After
// says) whether the service is back, and then reloads the page, which takes the person back
// to their form. Without JavaScript the page's meta refresh does the same.
//
// Each check comes a little before the Retry-After is up (75-95 % of it, at random), so that
// the person is back on the form within 30 seconds of the end, the reload included, and the
// pages of many people do not all ask at the same moment.
(() => {
  "use strict";
  const root = document.querySelector("[data-maintenance-retry]");
  const status = document.querySelector("[data-maintenance-status]");
  const seconds = (value) => Math.min(30, Math.max(1, Number(value) || 30));
  const later = (wait) => setTimeout(check, wait * (750 + Math.random() * 200));
  let wait = seconds(root && root.dataset.maintenanceRetry);

  async function check() {
    try {
      const response = await fetch(location.href, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (response.status !== 503) {
        if (status) status.textContent = "The service is back. Taking you to your form…";
        location.reload();
        return;
      }
      wait = seconds(response.headers.get("Retry-After"));
    } catch (_) {
      // Offline or the server is restarting: look again later.
    }
    later(wait);
  }

  later(wait);
})();
