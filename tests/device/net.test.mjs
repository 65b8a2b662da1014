import assert from "node:assert/strict";
import { test } from "node:test";

import { Connectivity, fetchWithin, NoAnswer } from "../../assets/device/src/net.js";

test("a request with no answer within the limit counts as no answer", async () => {
  const stalled = (url, init) => new Promise((_, reject) => {
    init.signal.addEventListener("abort", () => reject(new Error("aborted")));
  });
  await assert.rejects(fetchWithin("/api/outbox/sync", {}, { ms: 30, fetchImpl: stalled }), NoAnswer);
});

test("a body that never finishes is no answer either", async () => {
  const slowBody = async (url, init) => ({
    status: 200, ok: true,
    text: () => new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new Error("aborted")))),
  });
  await assert.rejects(fetchWithin("/x", {}, { ms: 30, fetchImpl: slowBody }), NoAnswer);
});

test("an answer, even an error status, is evidence of a link", async () => {
  const answer = async () => ({ status: 401, ok: false, text: async () => '{"error":"session"}' });
  const res = await fetchWithin("/x", {}, { ms: 1000, fetchImpl: answer });
  assert.equal(res.status, 401);
  assert.deepEqual(res.json(), { error: "session" });
});

test("connectivity changes only on evidence and tells its listeners", () => {
  const c = new Connectivity();
  const seen = [];
  c.onChange((s) => seen.push(s));
  c.noAnswer();
  c.noAnswer();
  c.answered();
  assert.deepEqual(seen, ["offline", "online"]);
  assert.equal(c.state, "online");
});
