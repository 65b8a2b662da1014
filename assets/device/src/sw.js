/* Đồng Hành service worker (bundled from this file by app/device_build.py), on Workbox.
 *
 * What it keeps: the app's code and static pages only — the prerendered pages (the same
 * HTML for everyone), the SPA fallback page, and every build file the route manifest names,
 * i.e. the code of every screen (so each volunteer screen opens with no signal). Never: /api/,
 * the websocket, uploads, or anything marked no-store. Personal data never passes through it.
 *
 * The precache is filled from what the browser already holds: requests go through the HTTP
 * cache (hashed build files are served `immutable`), so a file the page has just loaded is
 * not downloaded a second time (issue 20).
 *
 * Pages: network first, but a request with no answer within 10 s is served from the cache
 * (the same "no answer in 10 s = offline" rule as the device code). Build files: cache first
 * (their names change with their content). Each deploy registers "/sw.js?build=<id>": a new
 * worker with its own cache, which deletes the older ones once it is active.
 */
import { clientsClaim } from "workbox-core";
import { registerRoute, setCatchHandler } from "workbox-routing";
import { CacheFirst, NetworkFirst, StaleWhileRevalidate } from "workbox-strategies";

const BUILD = new URL(self.location.href).searchParams.get("build") || "dev";
const CACHE = "dh-shell-" + BUILD;
const FALLBACK = "/__spa-fallback.html";
// The pages a volunteer opens first; every other route is the SPA fallback plus its module.
const PAGES = ["/", "/today", "/clients", "/clients/new", "/outreach", "/group-activity"];
const FILES = ["/manifest.webmanifest", "/icons/icon-192.png", "/icons/icon-512.png", "/icons/maskable-512.png", "/device/app.js"];
const ASSET_REF = /["'(](\/assets\/[^"'?#\s)]+)["')]/g;

const keepable = {
  cacheWillUpdate: async ({ response }) => {
    if (!response || !response.ok || response.type !== "basic") return null;
    if (/no-store/i.test(response.headers.get("Cache-Control") || "")) return null;
    // A redirected page ("/today" → "/today/") cannot answer a navigation: keep its body.
    if (response.redirected) return new Response(await response.blob(), { status: 200, headers: response.headers });
    return response;
  },
};
const pageKey = {
  cacheKeyWillBeUsed: async ({ request }) => {
    const url = new URL(request.url);
    return url.origin + (url.pathname.replace(/\/+$/, "") || "/");
  },
};

const buildFiles = new CacheFirst({ cacheName: CACHE, plugins: [keepable], matchOptions: { ignoreVary: true } });
const smallFiles = new StaleWhileRevalidate({ cacheName: CACHE, plugins: [keepable], matchOptions: { ignoreVary: true } });
const pages = new NetworkFirst({ cacheName: CACHE, networkTimeoutSeconds: 10, plugins: [keepable, pageKey], matchOptions: { ignoreVary: true } });

const sameOrigin = (url) => url.origin === self.location.origin;
registerRoute(({ request, url }) => request.mode === "navigate" && sameOrigin(url), pages);
registerRoute(({ url }) => sameOrigin(url) && !url.search && /^\/assets\//.test(url.pathname), buildFiles);
registerRoute(({ url }) => sameOrigin(url) && !url.search
  && /^\/(icons\/|fonts\/|device\/app\.js$|manifest\.webmanifest$|favicon\.ico$)/.test(url.pathname), smallFiles);

// Offline, a page never cached (a client's page, a form): the SPA fallback, whose router
// loads the route's module from the cache.
setCatchHandler(async ({ request }) => {
  if (request.mode !== "navigate") return Response.error();
  const cache = await caches.open(CACHE);
  return (await cache.match(FALLBACK, { ignoreVary: true })) || (await cache.match(self.location.origin + "/today", { ignoreVary: true })) || Response.error();
});

/** Every build file the app may need: those the pages name, and those the route manifest
 * (the list of every route's module) names. */
async function buildFileList() {
  const found = new Set();
  const texts = [];
  for (const page of [...PAGES, FALLBACK]) {
    try {
      const res = await fetch(page, { credentials: "omit" });
      if (!res.ok) continue;
      const html = await res.text();
      texts.push(html);
      const cache = await caches.open(CACHE);
      const key = self.location.origin + (page.replace(/\/+$/, "") || "/");
      await cache.put(page === FALLBACK ? FALLBACK : key, new Response(html, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } }));
    } catch {
      /* a development server has no fallback page */
    }
  }
  for (const html of texts) for (const m of html.matchAll(ASSET_REF)) found.add(m[1]);
  for (const url of [...found].filter((u) => /\/manifest-[^/]+\.js$/.test(u))) {
    const res = await fetch(url); // from the HTTP cache if the page loaded it
    if (res.ok) for (const m of (await res.text()).matchAll(ASSET_REF)) found.add(m[1]);
  }
  return [...found];
}

/** Fill the cache through the strategy itself (what workbox-recipes' warmStrategyCache does,
 * which only works for a list known before the install event). */
function warm(event, urls, strategy) {
  return Promise.all(urls.map((url) => strategy.handleAll({ event, request: new Request(url) })[1]));
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const files = await buildFileList();
    await warm(event, files, buildFiles);
    await warm(event, FILES, smallFiles);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("dh-shell-") && k !== CACHE).map((k) => caches.delete(k)),
  )));
});
clientsClaim();
