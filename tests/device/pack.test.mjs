import assert from "node:assert/strict";
import { test } from "node:test";
import { deflateRawSync, gunzipSync, gzipSync } from "node:zlib";

import { dictionaryHash, dictionaryOf, inflateWith, inPackOrder, packDictionary, packRequestUrl, SPA_FALLBACK, unpack } from "../../assets/device/src/pack.js";

// What app/api/device_pack.py answers: the files' lengths in the order asked (null: left out),
// then their bytes.
function pack(files) {
  const bodies = files.map(([, text]) => (text === null ? null : Buffer.from(text, "utf8")));
  const index = JSON.stringify(bodies.map((b) => (b === null ? null : b.length)));
  return gunzipSync(gzipSync(Buffer.concat([Buffer.from(index + "\n"), ...bodies.filter(Boolean)])));
}

test("one request names the missing files once, in the order given (similar screens side by side)", () => {
  assert.equal(packRequestUrl(["/assets/_visit_-V.js", "/assets/_test_-T.js", "/assets/_visit_-V.js", SPA_FALLBACK]),
    "/device/pack?f=_visit_-V.js,_test_-T.js,__spa-fallback.html");
});

test("a pack gives back each file whole under the URL asked for, with its type, multi-byte text included", () => {
  const urls = ["/assets/a-1.js", "/assets/b-2.css", "/assets/a-1.js", "/assets/e-3.js"];
  const files = unpack(pack([["a-1.js", "export const a = `Đồng Hành`;\n"], ["b-2.css", ".x{color:red}"], ["e-3.js", ""]]), urls);
  assert.deepEqual(files.map((f) => [f.url, f.type]), [
    ["/assets/a-1.js", "text/javascript; charset=utf-8"],
    ["/assets/b-2.css", "text/css; charset=utf-8"],
    ["/assets/e-3.js", "text/javascript; charset=utf-8"],
  ]);
  assert.equal(new TextDecoder().decode(files[0].body), "export const a = `Đồng Hành`;\n");
  assert.equal(files[2].body.length, 0);
});

test("the SPA fallback page comes back as itself, an HTML page; a file left out is not in the answer", () => {
  const urls = ["/assets/_visit_-V.js", "/assets/gone-G.js", SPA_FALLBACK];
  const files = unpack(pack([["_visit_-V.js", "let v;"], ["gone-G.js", null], ["__spa-fallback.html", "<!DOCTYPE html><title>Đồng Hành</title>"]]), urls);
  assert.deepEqual(files.map((f) => [f.url, f.type]), [
    ["/assets/_visit_-V.js", "text/javascript; charset=utf-8"],
    ["/__spa-fallback.html", "text/html; charset=utf-8"],
  ]);
  assert.equal(SPA_FALLBACK, "/__spa-fallback.html");
});

test("a cut, padded or mismatched pack is refused, not cached in part", () => {
  const urls = ["/assets/a-1.js", "/assets/b-2.js"];
  const whole = pack([["a-1.js", "let a = 1;"], ["b-2.js", "let b = 2;"]]);
  assert.equal(unpack(whole, urls).length, 2);
  assert.throws(() => unpack(whole.subarray(0, whole.length - 3), urls));
  assert.throws(() => unpack(Buffer.concat([whole, Buffer.from("x")]), urls));
  assert.throws(() => unpack(whole, ["/assets/a-1.js"]));
  assert.throws(() => unpack(Buffer.from("no index line"), urls));
});

test("the worker asks for the pack's files in the build's order, the others after them in the list's", () => {
  const listed = ["/assets/manifest-1.js", "/assets/a-1.js", "/assets/b-2.js", "/assets/c-3.js", SPA_FALLBACK];
  const urls = ["/assets/a-1.js", "/assets/c-3.js", "/assets/b-2.js", SPA_FALLBACK];
  assert.deepEqual(inPackOrder(urls, listed, "4,2,1"), [SPA_FALLBACK, "/assets/b-2.js", "/assets/a-1.js", "/assets/c-3.js"]);
  // A worker the build did not write an order into (a development server): the list's order.
  assert.deepEqual(inPackOrder(urls, listed, "__DH_PACK_ORDER__"), ["/assets/a-1.js", "/assets/b-2.js", "/assets/c-3.js", SPA_FALLBACK]);
});

test("a pack compressed with the worker's own files as preset dictionary inflates to the same bytes", async () => {
  const screen = Buffer.from("const shared = () => jsx(RadixThemesText, {size: '2'}, 'Hồ sơ');\n".repeat(40));
  const other = Buffer.from("x".repeat(40000));
  const dict = dictionaryOf([other, screen]);
  assert.equal(dict.length, 32768);
  assert.deepEqual(Buffer.from(dict.subarray(dict.length - screen.length)), screen);
  const body = Buffer.from("[12]\nconst shared = () => jsx(RadixThemesText, {size: '2'}, 'Hồ sơ');");
  const packed = deflateRawSync(body, { level: 9, dictionary: Buffer.from(dict) });
  assert.ok(packed.length < deflateRawSync(body, { level: 9 }).length);
  assert.deepEqual(Buffer.from(await inflateWith(packed, dict)), body);
  assert.equal(packRequestUrl(["/assets/a-1.js", SPA_FALLBACK], { held: ["/assets/frame-2.js", "/assets/_today_-3.js"], page: "/today/", hash: "ab12" }),
    "/device/pack?f=a-1.js,__spa-fallback.html&d=frame-2.js,_today_-3.js&p=%2Ftoday%2F&h=ab12");
  assert.equal(packRequestUrl(["/assets/a-1.js"], { held: ["/assets/frame-2.js"] }), "/device/pack?f=a-1.js");
  // The hash the server checks (app/api/device_pack.py dictionary_hash): SHA-256's first 8 bytes.
  assert.equal(await dictionaryHash(new TextEncoder().encode("abc")), "ba7816bf8f01cfea");
});

test("the pack's dictionary is the held code of the opened screen, in the build's order; none without an order", () => {
  const listed = ["/assets/manifest-1.js", "/assets/entry-E.js", "/assets/_today_-T.js", "/assets/frame-F.js", "/assets/_visit_-V.js", SPA_FALLBACK];
  const held = ["/assets/manifest-1.js", "/assets/entry-E.js", "/assets/_today_-T.js", "/assets/frame-F.js"];
  assert.deepEqual(packDictionary(held, listed, "3,4,2,5"), ["/assets/frame-F.js", "/assets/_today_-T.js"]);
  assert.deepEqual(packDictionary(held, listed, "__DH_PACK_ORDER__"), []);
});
