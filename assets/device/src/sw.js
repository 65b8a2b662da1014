/* Đồng Hành service worker (bundled from this file by app/device_build.py), on Workbox.
 *
 * What it keeps: the app's code and static pages only. At install: the SPA fallback page and
 * the code of every screen a volunteer can use offline (routes.js: the entry, the root and
 * those routes, from the route manifest), so each of them opens with no signal. Later: every
 * page and build file the app loads online. Never: /api/, the websocket, uploads, or anything
 * marked no-store. Personal data never passes through it.
 *
 * The precache is filled from what the browser already holds: a build file the page has just
 * loaded is taken from the HTTP cache (hashed build files are served `immutable`, with no
 * `Vary: Origin`), never downloaded a second time, and the other screens' files and the SPA
 * fallback page come in one request, `/device/pack` (pack.js, app/api/device_pack.py), not one
 * each (issue 20).
 *
 * Pages: network first, but a request with no answer within 10 s is served from the cache
 * (the same "no answer in 10 s = offline" rule as the device code). Build files: cache first
 * (their names change with their content). Each deploy registers "/sw.js?build=<id>": a new
 * worker with its own cache, which deletes the older ones once it is active.
 */
import { clientsClaim } from "workbox-core";
// Workbox's Router itself, not registerRoute(): that one also brings the routes by regular
// expression and the CACHE_URLS message listener, which this worker never uses (0.2 KB).
import { Route } from "workbox-routing/Route.mjs";
import { Router } from "workbox-routing/Router.mjs";
import { CacheFirst, NetworkFirst, StaleWhileRevalidate } from "workbox-strategies";
import { dictionaryHash, dictionaryOf, inflateWith, inPackOrder, packDictionary, packRequestUrl, SPA_FALLBACK as FALLBACK, unpack } from "./pack.js";
import { offlineFiles } from "./routes.js";

const BUILD = new URL(self.location.href).searchParams.get("build") || "dev";
const CACHE = "dh-shell-" + BUILD;
// Besides the build files: the device code. A page opened offline that was never opened online
// is the SPA fallback page, whose router loads the route's module from the cache; a page opened
// online is kept as it is answered. The install icons and the web manifest are the browser's
// own business (it fetches them when it installs the app), not the offline day's.
const FILES = ["/device/boot.js", "/device/app.js"];
const ASSET_REF = /["'(](\/assets\/[^"'?#\s)]+)["')]/g;
// The pack's order (pack.js inPackOrder): positions in [...manifestFiles(), FALLBACK], written
// here by the build once it has named the files (app/device_build.py); as is, the order asked.
const PACK_ORDER = "__DH_PACK_ORDER__";

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

const router = new Router();
router.addFetchListener();
const registerRoute = (match, handler) => router.registerRoute(new Route(match, handler));
const sameOrigin = (url) => url.origin === self.location.origin;
registerRoute(({ request, url }) => request.mode === "navigate" && sameOrigin(url), pages);
registerRoute(({ url }) => sameOrigin(url) && !url.search && /^\/assets\//.test(url.pathname), buildFiles);
registerRoute(({ url }) => sameOrigin(url) && !url.search
  && /^\/(icons\/|fonts\/|device\/(?:boot|app)\.js$|manifest\.webmanifest$|favicon\.ico$)/.test(url.pathname), smallFiles);

// Offline, a page never cached (a client's page, a form): the SPA fallback, whose router
// loads the route's module from the cache.
router.setCatchHandler(async ({ request }) => {
  if (request.mode !== "navigate") return Response.error();
  const cache = await caches.open(CACHE);
  return (await cache.match(FALLBACK, { ignoreVary: true })) || (await cache.match(self.location.origin + "/today", { ignoreVary: true })) || Response.error();
});

/** The build files to keep, in the order of routes.js: the route manifest (the page has just
 * loaded it: from the HTTP cache) and what it lists for the entry, the root and each offline
 * route. Every other screen's code is kept when it is first loaded online. */
async function manifestFiles() {
  const manifestUrl = `/assets/manifest-${BUILD}.js`;
  try {
    const res = await fetch(manifestUrl);
    if (!res.ok) return [];
    const text = await res.text();
    // Not a manifest we can read: every build file it names, as before.
    return [manifestUrl, ...(offlineFiles(text) || [...text.matchAll(ASSET_REF)].map((m) => m[1]))];
  } catch {
    return []; /* a development server: no such manifest */
  }
}

/** Fill the cache through the strategy itself (what workbox-recipes' warmStrategyCache does,
 * which only works for a list known before the install event). */
function warm(event, urls, strategy) {
  return Promise.all(urls.map((url) => strategy.handleAll({ event, request: new Request(url) })[1]));
}

/** Put `urls` into the cache from the browser's HTTP cache, with no request (the page has just
 * loaded them: a hashed build file is `immutable`, and the device code was revalidated by that
 * page seconds ago; the worker revalidates it at its next use). The URLs it does not hold. */
async function takeHeld(cache, urls) {
  const missing = [];
  await Promise.all(urls.map(async (url) => {
    let held = null;
    try {
      held = await fetch(url, { cache: "only-if-cached", mode: "same-origin" });
    } catch {
      /* not in the HTTP cache */
    }
    if (held && held.ok) await cache.put(url, held);
    else missing.push(url);
  }));
  return missing;
}

/** The path and document of the page the worker is installed from, from the browser's cache
 * (it has just loaded it), or null. */
async function openedPage() {
  try {
    const [client] = await self.clients.matchAll({ includeUncontrolled: true, type: "window" });
    const url = new URL(client.url);
    const res = await fetch(url.pathname + url.search, { cache: "only-if-cached", mode: "same-origin" });
    return res.ok && !res.redirected ? { path: url.pathname, body: new Uint8Array(await res.arrayBuffer()) } : null;
  } catch {
    return null; /* no window, or not in the HTTP cache */
  }
}

/** Put the files of one request (pack.js) into the cache: the build files `urls` and the SPA
 * fallback page, whose shared code one gzip stream compresses once. Compressed with what the
 * browser holds of the opened screen (`held`: its build files, and its page) as deflate's
 * preset dictionary; if the server refuses that dictionary, a plain gzip pack. The URLs it
 * brought. */
async function keepPacked(cache, urls, held) {
  let page = await openedPage(), dict = new Uint8Array(0);
  try {
    const parts = await Promise.all(held.map(async (url) => new Uint8Array(await (await cache.match(url, { ignoreVary: true })).arrayBuffer())));
    dict = dictionaryOf(page ? [...parts, page.body] : parts);
  } catch {
    page = null; /* no dictionary */
  }
  for (const hash of dict.length ? [await dictionaryHash(dict), ""] : [""]) {
    try {
      const res = await fetch(packRequestUrl(urls, { held, page: page?.path, hash }));
      if (!res.ok) continue;
      const body = new Uint8Array(await res.arrayBuffer());
      const files = unpack(hash ? await inflateWith(body, dict) : body, urls);
      await Promise.all(files.map((f) => cache.put(f.url, new Response(f.body, { headers: { "Content-Type": f.type } }))));
      return new Set(files.map((f) => f.url));
    } catch {
      /* a server without packs, or no signal: one by one */
    }
  }
  return new Set();
}

/** The SPA fallback page's text: from the cache (the pack brought it), else fetched alone. */
async function fallbackPage(cache) {
  const kept = await cache.match(FALLBACK, { ignoreVary: true });
  if (kept) return kept.text();
  try {
    const res = await fetch(FALLBACK, { credentials: "omit" });
    if (!res.ok) return "";
    const html = await res.text();
    await cache.put(FALLBACK, new Response(html, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } }));
    return html;
  } catch {
    return ""; /* a development server has no fallback page */
  }
}

/** Keep the build files the offline screens need and the SPA fallback page: what the HTTP
 * cache holds from there; the rest in one request (the pack); what the fallback page names
 * besides (the stylesheet) from the HTTP cache too; whatever is still missing, one by one
 * through the strategy. */
async function keepShell(event, cache) {
  const files = await manifestFiles();
  const missing = await takeHeld(cache, files);
  const listed = [...files, FALLBACK];
  const packed = inPackOrder([...missing, FALLBACK], listed, PACK_ORDER);
  const held = packDictionary(files.filter((url) => !missing.includes(url)), listed, PACK_ORDER);
  const got = missing.length ? await keepPacked(cache, packed, held) : new Set();
  const html = await fallbackPage(cache);
  const named = [...new Set([...html.matchAll(ASSET_REF)].map((m) => m[1]))].filter((u) => !files.includes(u));
  const left = [...missing.filter((url) => !got.has(url)), ...(await takeHeld(cache, named))];
  await warm(event, left, buildFiles);
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await keepShell(event, cache);
    await warm(event, await takeHeld(cache, FILES), smallFiles);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("dh-shell-") && k !== CACHE).map((k) => caches.delete(k)),
  )));
});
clientsClaim();
