import assert from "node:assert/strict";
import { test } from "node:test";

import { OFFLINE_ROUTES, offlineFiles } from "../../assets/device/src/routes.js";

const route = (id, path, module, imports = [], css = []) => ({ id, path, module, imports, css, index: path !== "" });
const MANIFEST = {
  entry: { module: "/assets/entry.client-A.js", imports: ["/assets/vendor-V.js"], css: [] },
  routes: {
    root: { ...route("root", "", "/assets/root-R.js", ["/assets/vendor-V.js", "/assets/context-C.js"], ["/assets/root-R.css"]), index: undefined },
    "routes/_index": { ...route("routes/_index", undefined, "/assets/_index-I.js", ["/assets/signin-S.js"]) },
    "routes/today": route("routes/today", "today", "/assets/_today_-T.js", ["/assets/context-C.js"]),
    "routes/visit": route("routes/visit", "clients/:client_id/visit", "/assets/_visit_-V.js"),
    "routes/reports": route("routes/reports", "reports", "/assets/_reports_-BIG.js", ["/assets/charts-X.js"]),
    "routes/scan": route("routes/scan", "scan", "/assets/_scan_-Q.js"),
    "routes/audit": route("routes/audit", "clients/:client_id/audit", "/assets/_audit_-U.js"),
  },
};
const text = `window.__reactRouterManifest=${JSON.stringify(MANIFEST)};`;

test("the worker keeps the entry, the root and the volunteer's offline screens, with what they import", () => {
  const files = offlineFiles(text);
  for (const f of ["/assets/entry.client-A.js", "/assets/vendor-V.js", "/assets/root-R.js", "/assets/root-R.css",
    "/assets/context-C.js", "/assets/_index-I.js", "/assets/signin-S.js", "/assets/_today_-T.js", "/assets/_visit_-V.js"]) {
    assert.ok(files.includes(f), f);
  }
  assert.equal(new Set(files).size, files.length);
});

test("the offline screens' code is listed in the order of OFFLINE_ROUTES (the pack asks in that order)", () => {
  const files = offlineFiles(text);
  const at = (f) => files.indexOf(f);
  assert.ok(at("/assets/root-R.js") < at("/assets/_index-I.js"));
  assert.ok(at("/assets/_index-I.js") < at("/assets/signin-S.js"));
  assert.ok(at("/assets/signin-S.js") < at("/assets/_today_-T.js"));
  assert.ok(at("/assets/_today_-T.js") < at("/assets/_visit_-V.js"));
});

test("a supervisor's, clinic's or administrator's screen is not downloaded onto a volunteer's phone", () => {
  const files = offlineFiles(text);
  for (const f of ["/assets/_reports_-BIG.js", "/assets/charts-X.js", "/assets/_scan_-Q.js", "/assets/_audit_-U.js"]) {
    assert.ok(!files.includes(f), f);
  }
});

test("every screen the device draws or fills offline is among the routes kept", () => {
  for (const p of ["today", "clients", "clients/new", "clients/:client_id", "outreach", "group-activity",
    "clients/:client_id/visit", "clients/:client_id/test", "clients/:client_id/referral", "clients/:client_id/support"]) {
    assert.ok(OFFLINE_ROUTES.includes(p), p);
  }
});

test("a text that is not a manifest gives null (the worker then keeps every file it names)", () => {
  assert.equal(offlineFiles("console.log('x')"), null);
  assert.equal(offlineFiles("window.x={\"a\":1};"), null);
});
