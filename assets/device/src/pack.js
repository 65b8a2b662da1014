/* Several build files in one answer (`GET /device/pack?f=a.js,b.js`, app/api/device_pack.py):
 * the service worker fetches in one request the offline screens' code the page has not loaded
 * (issue 20). The answer: a first line `[[name, byte length], …]`, then the files' bytes. */

export const PACK_URL = "/device/pack";

/** The request for the build files `urls` ("/assets/<name>"), in a stable order (the same list
 * is the same answer). */
export function packRequestUrl(urls) {
  const names = [...new Set(urls.map((u) => u.slice(u.lastIndexOf("/") + 1)))].sort();
  return `${PACK_URL}?f=${names.map(encodeURIComponent).join(",")}`;
}

const TYPES = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" };

/** The files of a pack (`bytes`: its body, an ArrayBuffer or Uint8Array) as
 * [{ url: "/assets/<name>", type, body: Uint8Array }]; throws on a malformed pack. */
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
    out.push({ url: `/assets/${name}`, type: TYPES[name.slice(name.lastIndexOf(".") + 1)] || "application/octet-stream", body: all.slice(at, at + length) });
    at += length;
  }
  if (at !== all.length) throw new Error("pack: trailing bytes");
  return out;
}
