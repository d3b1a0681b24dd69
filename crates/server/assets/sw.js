// Holdfast's service worker, served at /sw.js (scope "/").
//
// It keeps a copy of each session page (/s/{token}), network first: the network's answer is
// always used when there is one, and the copy only when the server cannot
// be reached at all (or a gateway says so: 502, 504), so that a reload while the server is
// down shows the form, and the page script fills in the answers kept on this device. A 503
// (maintenance) is shown as it is. The API is never cached, and nothing else is touched.
//
// A server that is alive but does not answer is unreachable too: a page or asset that has not
// come within NETWORK_TIMEOUT_MS is answered with the copy, if there is one (else the network
// is waited for). Every copy answered carries the header `Holdfast-Copy: kept`, so that a page
// checking whether the service is back (maintenance.js) does not take the copy for the server.
//
// Assets are addressed by the version of their content, /assets/{version}/{name}, which never
// changes (crates/server/src/assets.rs); the page registers this worker as /sw.js?v={version}.
// It keeps the assets of its version when installed, in a cache of that version, answers them
// from there first, and drops the caches of the versions that no kept page names any more
// (when it takes over, and after keeping a page), so a copy kept before a deploy still finds
// its own scripts.

const CACHE = 'holdfast-pages-v1';
const VERSION = new URL(self.location.href).searchParams.get('v');
const ASSET_CACHE = 'holdfast-assets-';
/** How long a page or asset waits for the network before the copy is shown instead. */
const NETWORK_TIMEOUT_MS = 3500;
const COPY_HEADER = 'Holdfast-Copy';
/** What a form page loads: kept for its version. */
const ASSETS = ['holdfast.css', 'holdfast.js', 'journal.js', 'sync.js', 'form.js', 'status.js', 'resume.js'];

const isSessionPage = (url) => /^\/s\/[A-Za-z0-9_-]+$/.test(url.pathname);
const isAsset = (url) => url.pathname.startsWith('/assets/');
const versionOf = (url) => /^\/assets\/([0-9a-f]+)\/[\w.-]+$/.exec(url.pathname)?.[1];

self.addEventListener('install', (event) => {
  event.waitUntil(
    (VERSION ? caches.open(ASSET_CACHE + VERSION) : Promise.reject(new Error('no version')))
      .then((cache) => cache.addAll(ASSETS.map((name) => `/assets/${VERSION}/${name}`)))
      .catch(() => {})
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => k.startsWith('holdfast-') && k !== CACHE && !k.startsWith(ASSET_CACHE))
            .map((k) => caches.delete(k)),
        ),
      )
      .then(dropOldVersions)
      .then(() => self.clients.claim()),
  );
});

async function keep(path, response) {
  if (response.status === 200 && response.type === 'basic' && !response.redirected) {
    const cache = await caches.open(CACHE);
    await cache.put(path, response);
    if (isSessionPage(new URL(path, self.location.origin))) await dropOldVersions();
  }
}

/**
 * Drops the kept assets of every version but those of the workers registered (one may be
 * installing) and those the kept pages name.
 */
async function dropOldVersions() {
  const { installing, waiting, active } = self.registration;
  const workers = [installing, waiting, active].filter(Boolean);
  const wanted = new Set([VERSION, ...workers.map((w) => new URL(w.scriptURL).searchParams.get('v'))]);
  const cache = await caches.open(CACHE);
  for (const request of await cache.keys()) {
    if (!isSessionPage(new URL(request.url))) continue;
    const page = await (await cache.match(request)).text();
    for (const [, version] of page.matchAll(/\/assets\/([0-9a-f]+)\//g)) wanted.add(version);
  }
  const keys = await caches.keys();
  const old = keys.filter((k) => k.startsWith(ASSET_CACHE) && !wanted.has(k.slice(ASSET_CACHE.length)));
  await Promise.all(old.map((k) => caches.delete(k)));
}

/** A versioned asset never changes: the kept one if there is one, else the network's. */
async function keptFirst(event, url) {
  const kept = await caches.match(event.request);
  if (kept) return kept;
  const response = await fetch(event.request);
  const version = versionOf(url);
  if (version === VERSION && response.status === 200) {
    const copy = response.clone();
    event.waitUntil(caches.open(ASSET_CACHE + version).then((cache) => cache.put(event.request, copy)));
  }
  return response;
}

/** The copy of `url`, marked as a copy; undefined if there is none. */
async function copyOf(url) {
  const cache = await caches.open(CACHE);
  const copy = await cache.match(url.pathname, { ignoreSearch: true });
  if (!copy) return undefined;
  const headers = new Headers(copy.headers);
  headers.set(COPY_HEADER, 'kept');
  return new Response(copy.body, { status: copy.status, statusText: copy.statusText, headers });
}

async function networkFirst(event, url) {
  const abort = new AbortController();
  const network = fetch(event.request, { signal: abort.signal });
  let timer;
  const slow = new Promise((resolve) => {
    timer = setTimeout(resolve, NETWORK_TIMEOUT_MS);
  });
  let response;
  try {
    response = await Promise.race([network, slow]);
    if (!response) {
      // Alive but not answering: the copy if there is one, else keep waiting.
      const copy = await copyOf(url);
      if (copy) {
        abort.abort();
        return copy;
      }
      response = await network;
    }
  } catch (error) {
    const copy = await copyOf(url);
    if (copy) return copy;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (isSessionPage(url) && (response.status === 502 || response.status === 504)) {
    const copy = await copyOf(url);
    if (copy) return copy;
  }
  event.waitUntil(keep(url.pathname, response.clone()));
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.method === 'GET' && versionOf(url)) {
    event.respondWith(keptFirst(event, url));
  } else if (request.method === 'GET' && (isSessionPage(url) || isAsset(url))) {
    event.respondWith(networkFirst(event, url));
  } else if (request.method === 'POST' && request.mode === 'navigate' && isSessionPage(url)) {
    // A step change that cannot reach the server shows the form again, not an error page.
    event.respondWith(
      fetch(request).catch(async (error) => {
        const copy = await copyOf(url);
        if (copy) return copy;
        throw error;
      }),
    );
  }
});

// The page asks for its own copy when it was loaded before this worker was in charge.
self.addEventListener('message', (event) => {
  const path = event.data?.keep;
  if (typeof path !== 'string' || !isSessionPage(new URL(path, self.location.origin))) return;
  event.waitUntil(
    fetch(path, { credentials: 'same-origin' })
      .then((response) => keep(path, response))
      .catch(() => {}),
  );
});
