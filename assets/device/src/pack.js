/* Several build files in one answer (`GET /device/pack?f=a.js,b.js`, app/api/device_pack.py):
 * the service worker fetches in one request the offline screens' code the page has not loaded,
 * and the SPA fallback page (issue 20). The answer: a first line with each file's byte length
 * in the order asked (null: not in the pack, to be fetched alone), then the files' bytes. */

export const PACK_URL = "/device/pack";
// The one file of a pack that is not in /assets/: the page the worker answers an uncached
// screen with offline.
export const SPA_FALLBACK = "/__spa-fallback.html";

/** The request for the files `urls` ("/assets/<name>", or SPA_FALLBACK), once each, in the
 * order given: the worker lists similar screens side by side, which one gzip stream then
 * compresses better (the same list is the same answer). With a dictionary (`held`: build
 * files the worker holds, `page`: the path of the page it was installed from, whose document
 * it holds; `hash`: `dictionaryHash`), the answer is compressed with it as deflate's preset
 * dictionary (`inflateWith`). */
export function packRequestUrl(urls, { held = [], page = "", hash = "" } = {}) {
  const names = (list) => asked(list).map((u) => encodeURIComponent(nameOf(u))).join(",");
  const dict = hash ? `${held.length ? `&d=${names(held)}` : ""}${page ? `&p=${encodeURIComponent(page)}` : ""}&h=${hash}` : "";
  return `${PACK_URL}?f=${names(urls)}${dict}`;
}

/** The first 8 bytes of the dictionary's SHA-256, in hex: the server compresses with its own
 * copy only if it is the same (a page document of another build would inflate wrong code). */
export async function dictionaryHash(dict) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", dict));
  return [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// Deflate looks back at most 32 KB: what a preset dictionary can be.
const WINDOW = 32768;

/** The preset dictionary made of `parts` (Uint8Arrays: the files named by `d=`, in order, then
 * the page of `p=`): their last 32 KB, as app/api/device_pack.py makes it. */
export function dictionaryOf(parts) {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  return all.subarray(Math.max(0, all.length - WINDOW));
}

/** The bytes of a raw deflate stream `body` compressed with the preset dictionary `dict` (the
 * page's own screen code: the other screens' code refers back to what they share with it,
 * ~1 KB less on the pack, issue 20). DecompressionStream takes no dictionary, so the
 * dictionary goes in front as one stored block (deflate's uncompressed kind, whose bytes are
 * fixed by the dictionary alone) and its bytes are cut off again: what zlib's own
 * inflateSetDictionary amounts to. */
export async function inflateWith(body, dict) {
  const n = dict.length;
  const stored = Uint8Array.of(0, n & 255, n >> 8, ~n & 255, (~n >> 8) & 255);
  const stream = new Blob([stored, dict, body]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer()).subarray(n);
}

/** `urls` in the order the build found best for one gzip stream (`order`: "i,j,…", positions
 * in `listed`, the worker's list of files to keep; app/device_build.py writes it into the
 * worker once the build has named the files); the files it does not rank after those, in the
 * order of `listed`. Screens that share code side by side: ~0.7 KB less on the pack (issue 20). */
export function inPackOrder(urls, listed, order) {
  const rank = ranks(listed, order);
  const at = (url) => rank.get(url) ?? rank.size + (listed.indexOf(url) + 1 || listed.length + 1);
  return [...urls].sort((a, b) => at(a) - at(b));
}

/** Of `held` (the files the worker took from the browser's cache), those a pack may hold (the
 * code of the screen the phone opened; not the entry's and the root's), in the build's order:
 * the pack's preset dictionary (`inflateWith`). None without an order from the build. */
export function packDictionary(held, listed, order) {
  const rank = ranks(listed, order);
  return held.filter((url) => rank.has(url)).sort((a, b) => rank.get(a) - rank.get(b));
}

const ranks = (listed, order) => new Map(order.split(",").map((i, n) => [listed[Number(i)], n]));

const nameOf = (url) => url.slice(url.lastIndexOf("/") + 1);
/** The files a request for `urls` names, in its order: each name once. */
const asked = (urls) => [...new Map(urls.map((u) => [nameOf(u), u])).values()];
const TYPES = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", html: "text/html; charset=utf-8" };

/** The files of the pack asked for with `packRequestUrl(urls)` (`bytes`: its body, an
 * ArrayBuffer or Uint8Array) as [{ url, type, body: Uint8Array }], those it holds; throws on a
 * malformed pack. */
export function unpack(bytes, urls) {
  const all = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const eol = all.indexOf(10);
  if (eol < 0) throw new Error("pack: no index");
  const index = JSON.parse(new TextDecoder().decode(all.subarray(0, eol)));
  const wanted = asked(urls);
  if (!Array.isArray(index) || index.length !== wanted.length) throw new Error("pack: bad index");
  const out = [];
  let at = eol + 1;
  for (const [i, length] of index.entries()) {
    if (length === null) continue;
    if (!Number.isInteger(length) || length < 0 || at + length > all.length) throw new Error("pack: bad entry");
    const url = wanted[i];
    out.push({ url, type: TYPES[url.slice(url.lastIndexOf(".") + 1)] || "application/octet-stream", body: all.slice(at, at + length) });
    at += length;
  }
  if (at !== all.length) throw new Error("pack: trailing bytes");
  return out;
}
