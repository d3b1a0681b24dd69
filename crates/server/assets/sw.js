// Holdfast's service worker, served at /sw.js (scope "/").
//
// It keeps a copy of each session page (/s/{token}) and of the assets, network first: the
// network's answer is always used when there is one, and the copy only when the server cannot
// be reached at all (or a gateway says so: 502, 504), so that a reload while the server is
// down shows the form, and the page script fills in the answers kept on this device. A 503
// (maintenance) is shown as it is. The API is never cached, and nothing else is touched.

const CACHE = 'holdfast-pages-v1';
const ASSETS = [
  '/assets/holdfast.css',
  '/assets/holdfast.js',
  '/assets/journal.js',
  '/assets/sync.js',
  '/assets/form.js',
  '/assets/status.js',
  '/assets/resume.js',
];

const isSessionPage = (url) => /^\/s\/[A-Za-z0-9_-]+$/.test(url.pathname);
const isAsset = (url) => url.pathname.startsWith('/assets/');

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(ASSETS))
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
          keys.filter((k) => k.startsWith('holdfast-') && k !== CACHE).map((k) => caches.delete(k)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

async function keep(path, response) {
  if (response.status === 200 && response.type === 'basic' && !response.redirected) {
    const cache = await caches.open(CACHE);
    await cache.put(path, response);
  }
}

async function copyOf(url) {
  const cache = await caches.open(CACHE);
  return cache.match(url.pathname, { ignoreSearch: true });
}

async function networkFirst(event, url) {
  let response;
  try {
    response = await fetch(event.request);
  } catch (error) {
    const copy = await copyOf(url);
    if (copy) return copy;
    throw error;
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
  if (request.method === 'GET' && (isSessionPage(url) || isAsset(url))) {
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
