// The caregiver app's service worker: Workbox from npm (web/package.json), served by the API from its own origin
// under /ui/vendor/ (core/vendor.py) — nothing from a CDN.
//
// - The app shell (precache-manifest.js: every file of the app with a revision, written by
//   scripts/caregiver_precache.py) is precached at install, so the app opens with no signal at all.
// - The day's data — GET /api/me/tasks, /api/me/residents, /api/auth/me, /api/meta/labels — is NetworkFirst: the
//   network when it answers within NETWORK_TIMEOUT_S, else the last answer kept here (at most MAX_AGE_S old, then
//   dropped). An answer from the cache carries `X-Served-From-Cache: 1` so the page can say the data are old.
// - Writes (POST) are never cached nor replayed here: the page's outbox (IndexedDB) does that, in order, with an
//   Idempotency-Key each.
importScripts("/ui/vendor/workbox-sw/workbox-sw.js", "/ui/caregiver/precache-manifest.js");

workbox.setConfig({
  debug: false,
  modulePathCb: (name, debug) => `/ui/vendor/${name}/${name}.${debug ? "dev" : "prod"}.js`,
});
// Load every module now (install time): importScripts is not allowed later.
workbox.loadModule("workbox-core");
workbox.loadModule("workbox-precaching");
workbox.loadModule("workbox-routing");
workbox.loadModule("workbox-strategies");
workbox.loadModule("workbox-expiration");

const API_CACHE = "eldercare-caregiver-api";
const NETWORK_TIMEOUT_S = 6;
const MAX_AGE_S = 24 * 60 * 60; // a day's data, no longer: residents' details do not linger on the phone
const CACHED_API = new Set(["/api/me/tasks", "/api/me/residents", "/api/auth/me", "/api/meta/labels"]);

workbox.core.setCacheNameDetails({ prefix: "eldercare-caregiver" });
// A new version takes over at once (the outbox lives in IndexedDB, not in the worker: nothing is lost).
self.addEventListener("install", () => self.skipWaiting());
workbox.core.clientsClaim();

workbox.precaching.precacheAndRoute(self.CAREGIVER_PRECACHE, { ignoreURLParametersMatching: [/.*/] });
workbox.precaching.cleanupOutdatedCaches();

const markCached = {
  cachedResponseWillBeUsed: async ({ cachedResponse }) => {
    if (!cachedResponse) return cachedResponse;
    const headers = new Headers(cachedResponse.headers);
    headers.set("X-Served-From-Cache", "1");
    return new Response(await cachedResponse.blob(), { status: cachedResponse.status, statusText: cachedResponse.statusText, headers });
  },
};

workbox.routing.registerRoute(
  ({ url, request }) => request.method === "GET" && url.origin === self.location.origin
    && (CACHED_API.has(url.pathname) || /^\/api\/me\/residents\/\d+$/.test(url.pathname)),
  new workbox.strategies.NetworkFirst({
    cacheName: API_CACHE,
    networkTimeoutSeconds: NETWORK_TIMEOUT_S,
    plugins: [new workbox.expiration.ExpirationPlugin({ maxEntries: 60, maxAgeSeconds: MAX_AGE_S }), markCached],
  }),
);

self.addEventListener("message", (event) => {
  if (event.data?.type === "clear-api-cache") event.waitUntil(caches.delete(API_CACHE));
});
