/* Several build files in one answer (`GET /device/pack?f=a.js,b.js`, app/api/device_pack.py):
 * the service worker fetches in one request the offline screens' code the page has not loaded,
 * and the SPA fallback page (issue 20). The answer: a first line `[[name, byte length], …]`,
 * then the files' bytes. */

export const PACK_URL = "/device/pack";
// The one file of a pack that is not in /assets/: the page the worker answers an uncached
// screen with offline.
export const SPA_FALLBACK = "/__spa-fallback.html";

/** The request for the files `urls` ("/assets/<name>", or SPA_FALLBACK), once each, in the
 * order given: the worker lists similar screens side by side, which one gzip stream then
 * compresses better (the same list is the same answer). */
export function packRequestUrl(urls) {
  const names = [...new Set(urls.map((u) => u.slice(u.lastIndexOf("/") + 1)))];
  return `${PACK_URL}?f=${names.map(encodeURIComponent).join(",")}`;
}

const TYPES = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", html: "text/html; charset=utf-8" };
const urlOf = (name) => (`/${name}` === SPA_FALLBACK ? SPA_FALLBACK : `/assets/${name}`);

/** The files of a pack (`bytes`: its body, an ArrayBuffer or Uint8Array) as
 * [{ url: "/assets/<name>" (or SPA_FALLBACK), type, body: Uint8Array }]; throws on a malformed pack. */
export function unpack(bytes) {
  const all = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const eol = all.indexOf(10);
  if (eol < 0) throw new Error("pack: no index");
  const index = JSON.parse(new TextDecoder().decode(all.subarray(0, eol)));
  const out = [];
  let at = eol + 1;
  for (const [name, length] of index) {
    if (typeof name !== "string" || !Number.isInteger(length) || length < 0 || at + length > all.length) {
      throw new Error("pack: bad entry");
    }
    out.push({ url: urlOf(name), type: TYPES[name.slice(name.lastIndexOf(".") + 1)] || "application/octet-stream", body: all.slice(at, at + length) });
    at += length;
  }
  if (at !== all.length) throw new Error("pack: trailing bytes");
  return out;
}
