/* Đồng Hành service worker: caches the static app shell only.
 *
 * Cached: the prerendered pages the app opens offline ("/", "/today" and the SPA fallback:
 * the same static HTML for every user), the hashed build assets, the page scripts, icons and
 * the manifest. Never cached: the websocket, /api/ (the offline queue talks to it), uploads,
 * or anything that is not a same-origin GET of a static file. Personal data never passes
 * through this cache: it travels over the websocket and the no-store API, and the offline
 * queue lives encrypted in IndexedDB (assets/offline.js).
 *
 * Updates: the page registers "/sw.js?build=<id of the build>" (assets/dh.js), so each deploy
 * is a new worker with its own cache "dh-shell-<build>". It installs, skips waiting, deletes
 * every older shell cache and takes over open pages at once; pages are fetched network-first,
 * so nobody online is served an old build.
 */
const BUILD = new URL(self.location.href).searchParams.get("build") || "dev";
const VERSION = "dh-shell-" + BUILD;
const PAGES = ["/", "/today"];
const FALLBACK = "/__spa-fallback.html";
const FILES = [
  "/manifest.webmanifest",
  "/dh.js",
  "/offline.js",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/maskable-512.png",
];
const STATIC = /^\/(assets\/|icons\/|fonts\/|manifest\.webmanifest$|dh\.js$|offline\.js$|favicon\.ico$)/;
const HASHED = /^\/assets\//;
const ASSET_REF = /["'](\/assets\/[^"'?#\s]+)["']/g;

function cacheable(res) {
  if (!res || !res.ok || res.type !== "basic") return false;
  return !/no-store/i.test(res.headers.get("Cache-Control") || "");
}

// "/today" may answer with a redirect to "/today/": the copy kept is a plain 200 page,
// stored under the path without its trailing slash (a redirected response cannot be
// served to a navigation).
function pageKey(path) {
  return path.replace(/\/+$/, "") || "/";
}

function asPage(html, res) {
  return new Response(html, { status: 200, headers: { "Content-Type": res.headers.get("Content-Type") || "text/html; charset=utf-8" } });
}

async function precache() {
  const cache = await caches.open(VERSION);
  const assets = new Set();
  for (const page of [...PAGES, FALLBACK]) {
    const res = await fetch(page, { cache: "reload", credentials: "omit" });
    if (!cacheable(res)) {
      if (page === FALLBACK) continue; // a development server has none
      throw new Error("shell page unavailable: " + page);
    }
    const html = await res.text();
    for (const m of html.matchAll(ASSET_REF)) assets.add(m[1]);
    await cache.put(page, asPage(html, res));
  }
  await cache.addAll([...FILES, ...assets].map((u) => new Request(u, { cache: "reload" })));
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith("dh-shell-") && k !== VERSION).map((k) => caches.delete(k))
      ))
      .then(() => self.clients.claim())
  );
});

async function navigate(req, path) {
  const cache = await caches.open(VERSION);
  const key = pageKey(path);
  try {
    const res = await fetch(req);
    // Keep the newest copy of the shell pages (static HTML, the same for everyone).
    if (PAGES.includes(key) && cacheable(res)) await cache.put(key, asPage(await res.clone().text(), res));
    return res;
  } catch (err) {
    const any = { ignoreVary: true };
    const hit = (await cache.match(key, any)) || (await cache.match(FALLBACK, any)) || (await cache.match("/", any));
    if (hit) return hit;
    throw err;
  }
}

async function staticFile(req, path) {
  const cache = await caches.open(VERSION);
  const hit = await cache.match(req, { ignoreVary: true });
  // Hashed build files never change: a cached copy is final.
  if (hit && HASHED.test(path)) return hit;
  const fresh = fetch(req).then(async (res) => {
    if (cacheable(res)) await cache.put(req, res.clone());
    return res;
  });
  if (hit) {
    fresh.catch(() => {}); // the others are refreshed in the background
    return hit;
  }
  return fresh;
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  if (req.mode === "navigate") {
    event.respondWith(navigate(req, url.pathname));
    return;
  }
  if (!STATIC.test(url.pathname) || url.search) return;
  event.respondWith(staticFile(req, url.pathname));
});
