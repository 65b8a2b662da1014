/* Đồng Hành service worker: caches the static app shell only.
 * Never cached: the websocket, any API or upload route, any response that is not a
 * same-origin GET of a static file. Personal data travels only over the websocket. */
const VERSION = "dh-shell-v1";
const SHELL = ["/", "/manifest.webmanifest", "/dh.js", "/icons/icon-192.png", "/icons/icon-512.png"];
const STATIC = /^\/(assets\/|icons\/|manifest\.webmanifest$|dh\.js$|favicon\.ico$)/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  if (req.mode === "navigate") {
    // Network first so a new deploy is picked up at once; the cached shell when offline.
    event.respondWith(fetch(req).catch(() => caches.match("/", { cacheName: VERSION })));
    return;
  }
  if (!STATIC.test(url.pathname) || url.search) return;
  event.respondWith(
    caches.open(VERSION).then((cache) =>
      cache.match(req).then((hit) => {
        const fresh = fetch(req).then((res) => {
          if (res.ok && res.type === "basic") cache.put(req, res.clone());
          return res;
        });
        return hit || fresh;
      })
    )
  );
});
