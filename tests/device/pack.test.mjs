import assert from "node:assert/strict";
import { test } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";

import { packRequestUrl, SPA_FALLBACK, unpack } from "../../assets/device/src/pack.js";

// What app/api/device_pack.py answers: the index line, then the files' bytes.
function pack(files) {
  const bodies = files.map(([, text]) => Buffer.from(text, "utf8"));
  const index = JSON.stringify(files.map(([name], i) => [name, bodies[i].length]));
  return gunzipSync(gzipSync(Buffer.concat([Buffer.from(index + "\n"), ...bodies])));
}

test("one request names the missing files once, in the order given (similar screens side by side)", () => {
  assert.equal(packRequestUrl(["/assets/_visit_-V.js", "/assets/_test_-T.js", "/assets/_visit_-V.js", SPA_FALLBACK]),
    "/device/pack?f=_visit_-V.js,_test_-T.js,__spa-fallback.html");
});

test("the SPA fallback page comes back as itself, an HTML page, not as a build file", () => {
  const files = unpack(pack([["_visit_-V.js", "let v;"], ["__spa-fallback.html", "<!DOCTYPE html><title>Đồng Hành</title>"]]));
  assert.deepEqual(files.map((f) => [f.url, f.type]), [
    ["/assets/_visit_-V.js", "text/javascript; charset=utf-8"],
    ["/__spa-fallback.html", "text/html; charset=utf-8"],
  ]);
  assert.equal(SPA_FALLBACK, "/__spa-fallback.html");
});

test("a pack gives back each file whole, with its type, multi-byte text included", () => {
  const files = unpack(pack([["a-1.js", "export const a = `Đồng Hành`;\n"], ["b-2.css", ".x{color:red}"], ["e-3.js", ""]]));
  assert.deepEqual(files.map((f) => [f.url, f.type]), [
    ["/assets/a-1.js", "text/javascript; charset=utf-8"],
    ["/assets/b-2.css", "text/css; charset=utf-8"],
    ["/assets/e-3.js", "text/javascript; charset=utf-8"],
  ]);
  assert.equal(new TextDecoder().decode(files[0].body), "export const a = `Đồng Hành`;\n");
  assert.equal(files[2].body.length, 0);
});

test("a cut or padded pack is refused, not cached in part", () => {
  const whole = pack([["a-1.js", "let a = 1;"], ["b-2.js", "let b = 2;"]]);
  assert.throws(() => unpack(whole.subarray(0, whole.length - 3)));
  assert.throws(() => unpack(Buffer.concat([whole, Buffer.from("x")])));
  assert.throws(() => unpack(Buffer.from("no index line")));
});
