// The maintenance page: takes the person back to their form as soon as the service is back.
// Without JavaScript the page's meta refresh does the same, more slowly.
//
// How it learns the end: it asks the server to say the moment end customers' requests open
// again (GET /api/v1/availability?wait=25, a long poll; one page of the browser asks, under a
// Web Lock, and tells the others, and the form pages, over a BroadcastChannel). When the server
// says so, it waits a random share of the spread the server asks for (so that thousands of
// pages do not come back in the same instant) and checks. Besides, it checks every 30 seconds
// (or sooner, as the server's Retry-After says, at 75-95 % of it, at random), in case the long
// poll cannot be used.
//
// A check asks the page's own address: the service is back only when the server itself answers
// it with 2xx. Not when it cannot be reached (a network error, or no answer within
// CHECK_TIMEOUT_MS: alive but hung), nor when a gateway answers in its place (502, 504, …), nor
// when the answer is the service worker's kept copy of the form (header Holdfast-Copy): those
// are looked at again later, as a 503 is.
//
// The module exports `waitForService` so that the simulation of many pages (tests/sim) runs
// this very logic; in a browser it starts by itself.

const CHECK_TIMEOUT_MS = 10000;
const AVAILABILITY = "/api/v1/availability?wait=25";
const AVAILABILITY_TIMEOUT_MS = 30000;
const MAX_SPREAD_MS = 3000;
const SHARED = "holdfast-availability";

const seconds = (value) => Math.min(30, Math.max(1, Number(value) || 30));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the server answers `pageUrl` itself, then calls `back()`.
 * `retry` is the page's first Retry-After (seconds); `env` gives what a browser has
 * ({fetch, locks, BroadcastChannel, random}), for the simulation.
 */
export function waitForService(pageUrl, retry, back, env = globalThis) {
  const random = env.random ?? Math.random;
  let wait = seconds(retry);
  let timer = 0;
  let done = false;
  let returning = false;
  let channel = null;

  const finish = () => {
    done = true;
    clearTimeout(timer);
    channel?.close();
    back();
  };

  async function check() {
    if (done) return;
    clearTimeout(timer);
    const abort = new AbortController();
    const limit = setTimeout(() => abort.abort(), CHECK_TIMEOUT_MS);
    try {
      const response = await env.fetch(pageUrl, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { Accept: "text/html" },
        signal: abort.signal,
      });
      if (response.ok && !response.headers.has("Holdfast-Copy")) {
        finish();
        return;
      }
      if (response.status === 503) wait = seconds(response.headers.get("Retry-After"));
    } catch (_) {
      // Offline, the server is restarting, or it does not answer: look again later.
    } finally {
      clearTimeout(limit);
    }
    later();
  }

  function later() {
    if (done) return;
    clearTimeout(timer);
    timer = setTimeout(check, wait * (750 + random() * 200));
  }

  /** Said to be open: checks at a random moment of the spread; resolves after the check. */
  async function reopened(message) {
    if (!message || message.open !== true || returning || done) return;
    returning = true;
    try {
      const spread = Math.min(Math.max(Number(message.spread_ms) || 0, 0), MAX_SPREAD_MS);
      await sleep(random() * spread);
      await check();
    } finally {
      returning = false;
    }
  }

  async function ask() {
    let refusedWhileOpen = 0;
    while (!done) {
      let answer = null;
      const abort = new AbortController();
      const limit = setTimeout(() => abort.abort(), AVAILABILITY_TIMEOUT_MS);
      try {
        const response = await env.fetch(AVAILABILITY, {
          cache: "no-store",
          credentials: "same-origin",
          signal: abort.signal,
        });
        if (response.status === 200) answer = await response.json();
      } catch (_) {
        answer = null;
      } finally {
        clearTimeout(limit);
      }
      if (answer && answer.open === true) {
        channel?.postMessage({ open: true, spread_ms: answer.spread_ms });
        await reopened(answer);
        // Said to be open, yet the check was refused (closed again meanwhile, or another node
        // still is): ask again, after a pause that grows each time.
        if (!done) {
          refusedWhileOpen += 1;
          await sleep(Math.min(10000, 500 * 2 ** refusedWhileOpen) * (0.5 + random() / 2));
        }
        continue;
      }
      if (answer && answer.open === false) continue;
      // Not answered (unreachable, a gateway, an older server): the timed checks go on.
      await sleep(5000 + random() * 5000);
    }
  }

  try {
    channel = env.BroadcastChannel ? new env.BroadcastChannel(SHARED) : null;
    if (channel) channel.onmessage = (event) => reopened(event.data);
  } catch (_) {
    channel = null;
  }
  const locks = channel ? env.navigator?.locks : null;
  try {
    (locks ? locks.request(SHARED, () => (done ? null : ask())) : ask()).catch(() => {});
  } catch (_) {
    ask();
  }
  later();
}

if (globalThis.document) {
  const root = document.querySelector("[data-maintenance-retry]");
  const status = document.querySelector("[data-maintenance-status]");
  waitForService(location.href, root && root.dataset.maintenanceRetry, () => {
    if (status) status.textContent = "The service is back. Taking you to your form…";
    location.reload();
  });
}
