import assert from "node:assert/strict";
import { test } from "node:test";

import { LINK, recentLink, signInFields } from "../../assets/device/src/page.js";

const storage = (value) => ({ getItem: (k) => (k === LINK ? value : null) });

test("the tab's last evidence about the link counts for five minutes", () => {
  const at = 1_000_000;
  const kept = storage(JSON.stringify({ state: "offline", at }));
  assert.equal(recentLink(kept, at + 60_000), "offline");
  assert.equal(recentLink(kept, at + 5 * 60_000 - 1), "offline");
  assert.equal(recentLink(kept, at + 5 * 60_000), null);
});

test("no evidence, unreadable evidence or no storage at all is no evidence", () => {
  assert.equal(recentLink(storage(null), 0), null);
  assert.equal(recentLink(storage("{not json"), 0), null);
  assert.equal(recentLink({ getItem() { throw new Error("disabled"); } }, 0), null);
});

test("a sign-in form is one with a password and a login, nothing else is", () => {
  const form = (fields) => ({ querySelector: (sel) => sel.split(", ").map((s) => fields[s]).find(Boolean) || null });
  const password = { value: "pw" }, login = { value: "tnv" };
  assert.deepEqual(signInFields(form({ "input[type=password]": password, "input[name=login]": login })), { password, login });
  assert.deepEqual(signInFields(form({ "input[type=password]": password, "input[autocomplete=username]": login })), { password, login });
  assert.equal(signInFields(form({ "input[type=password]": password })), null); // changing a password
  assert.equal(signInFields(form({ "input[name=login]": login })), null);
  assert.equal(signInFields(null), null);
});
