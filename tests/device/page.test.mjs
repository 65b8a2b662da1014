import assert from "node:assert/strict";
import { test } from "node:test";

import { LINK, recentLink } from "../../assets/device/src/page.js";

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
