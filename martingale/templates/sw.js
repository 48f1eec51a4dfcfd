// The service worker (web/pwa.py serves it at /sw.js with this deploy's values filled in).
//
// One cache per deploy, named by a hash of every front-end file: a deploy that changes any of
// them changes this script, so browsers install the new worker, which stores the new files, takes
// over at once and deletes every older cache. What it stores is the offline page and the static
// files; what it serves from there is only what the network could not give.
//
// Never through the cache: the API and the socket (prices, portfolios and trades are live or
// nothing), and the pages themselves (the dashboard carries the player's name and CSRF token).
const VERSION = {{ version|tojson }};
const CACHE = `martingale-shell-${VERSION}`;
const PREFIX = "martingale-";
const OFFLINE_PAGE = {{ offline_page|tojson }};
const PRECACHE = {{ precache|tojson }};
const STORED = new Set(PRECACHE);
const NETWORK_ONLY = ["/api/", "/socket.io/"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache "reload": the server's files of this deploy, not the HTTP cache's copy of the last
    // one; credentials "omit": the offline page is stored as anyone would get it
    await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload", credentials: "omit" })));
    // a worker only ever adds an offline fallback and reads nothing it did not store: the new
    // one may replace the old at once, even under open pages
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

async function stored(request) {
  const cache = await caches.open(CACHE);
  return (await cache.match(request, { ignoreVary: true })) || Response.error();
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  // not answered here at all: the browser fetches these itself, and a failure stays a failure
  if (NETWORK_ONLY.some((prefix) => url.pathname.startsWith(prefix))) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => stored(new Request(OFFLINE_PAGE))));
  } else if (STORED.has(url.pathname) && !url.search) {
    // the network first, so an open page never mixes a new deploy's files with the old ones
    event.respondWith(fetch(request).catch(() => stored(request)));
  }
});
