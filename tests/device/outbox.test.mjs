import "fake-indexeddb/auto";

import assert from "node:assert/strict";
import { test } from "node:test";

import { exportKey, importKey, newDeviceKey, PBKDF2_ITERATIONS, wrapDeviceKey } from "../../assets/device/src/crypto.js";
import { deleteDevice, openDevice } from "../../assets/device/src/db.js";
import { clientRef, Outbox } from "../../assets/device/src/outbox.js";
import { MAX_TRIES, Vaults, wipeUser } from "../../assets/device/src/vault.js";

let n = 0;
async function fresh() {
  const name = `dh-test-${(n += 1)}`;
  await deleteDevice(name);
  return openDevice(name);
}
const FAST = { iterations: 1000 }; // the real 600,000 is tested once below

test("the device key is wrapped with PBKDF2 at 600,000 iterations by default", async () => {
  assert.ok(PBKDF2_ITERATIONS >= 600_000);
  const box = await wrapDeviceKey(await newDeviceKey(), "mật khẩu dài");
  assert.equal(box.iterations, 600_000);
  assert.equal(atob(box.salt).length, 16);
});

test("unlock with the password or the PIN; five wrong tries wipe the user's data", async () => {
  const db = await fresh();
  const vaults = new Vaults(db, FAST);
  const key = await newDeviceKey();
  await vaults.keep({ userId: 7, login: "hoa.le", keyId: "k1", deviceKey: key, password: "Mat-khau-1" });
  await vaults.setPin(7, key, "246810");
  await assert.rejects(vaults.setPin(7, key, "12345")); // fewer than 6 digits
  const outbox = new Outbox(db, { owner: 7, key });
  await outbox.save({ key: Outbox.newDraftKey(), kind: "visit", payload: { notes: "bí mật" } });
  const wipe = (id) => wipeUser(db, id);

  const byPassword = await vaults.unlock({ login: "HOA.LE ", secret: "Mat-khau-1", wipeUser: wipe });
  assert.equal(byPassword.status, "ok");
  assert.equal(await exportKey(byPassword.key), await exportKey(key));
  assert.equal((await vaults.unlock({ login: "hoa.le", secret: "246810", wipeUser: wipe })).status, "ok");
  assert.equal((await vaults.unlock({ login: "someone", secret: "x", wipeUser: wipe })).status, "unknown");

  for (let i = 1; i < MAX_TRIES; i += 1) {
    const wrong = await vaults.unlock({ login: "hoa.le", secret: "000000", wipeUser: wipe });
    assert.deepEqual(wrong, { status: "wrong", left: MAX_TRIES - i });
  }
  assert.equal((await vaults.unlock({ login: "hoa.le", secret: "000000", wipeUser: wipe })).status, "wiped");
  assert.equal(await vaults.get(7), undefined);
  assert.equal((await db.getAll("outbox")).length, 0);
  assert.equal((await vaults.unlock({ login: "hoa.le", secret: "Mat-khau-1", wipeUser: wipe })).status, "unknown");
});

test("a right answer resets the count of wrong tries", async () => {
  const db = await fresh();
  const vaults = new Vaults(db, FAST);
  await vaults.keep({ userId: 1, login: "a", keyId: "k", deviceKey: await newDeviceKey(), password: "pw-123456" });
  const wipe = (id) => wipeUser(db, id);
  for (let i = 0; i < MAX_TRIES - 1; i += 1) await vaults.unlock({ login: "a", secret: "no", wipeUser: wipe });
  assert.equal((await vaults.unlock({ login: "a", secret: "pw-123456", wipeUser: wipe })).status, "ok");
  assert.deepEqual(await vaults.unlock({ login: "a", secret: "no", wipeUser: wipe }), { status: "wrong", left: 4 });
});

test("nothing personal is stored in the clear", async () => {
  const db = await fresh();
  const key = await newDeviceKey();
  const vaults = new Vaults(db, FAST);
  await vaults.keep({ userId: 3, login: "hoa.le", keyId: "k", deviceKey: key, password: "pw-abcdef" });
  const outbox = new Outbox(db, { owner: 3, key });
  await outbox.save({ key: Outbox.newDraftKey(), kind: "visit", payload: { notes: "Nguyễn Văn Hùng tái nghiện" }, label: { name: "Nguyễn Văn Hùng" } });
  const everything = JSON.stringify([await db.getAll("vaults"), await db.getAll("outbox")]);
  assert.ok(!everything.includes("Hùng"));
  assert.ok(!everything.includes("hoa.le"));
});

test("a record is sent once whatever the retries, and a lost answer is simply resent", async () => {
  const db = await fresh();
  const key = await newDeviceKey();
  const outbox = new Outbox(db, { owner: 1, key });
  const draft = Outbox.newDraftKey();
  await outbox.save({ key: draft, kind: "visit", payload: { client_id: 5, notes: "a" } });
  await outbox.save({ key: draft, kind: "visit", payload: { client_id: 5, notes: "a" } }); // double tap
  assert.equal((await outbox.list()).length, 1);

  const stored = new Map(); // the server: one row per key
  const server = async (records) => records.map((r) => {
    if (!stored.has(r.key)) stored.set(r.key, stored.size + 1);
    return { key: r.key, status: "applied", record_id: stored.get(r.key), applied_at: "2026-12-07T01:02:00Z" };
  });
  // The first answer is lost (the server stored it, the device heard nothing).
  await assert.rejects(outbox.syncRound(async (records) => { await server(records); throw new Error("lost"); }));
  assert.equal((await outbox.get(draft)).status, "waiting");
  const summary = await outbox.syncRound(server);
  assert.equal(summary.sent, 1);
  assert.equal(stored.size, 1);
  const sent = await outbox.get(draft);
  assert.equal(sent.status, "sent");
  assert.equal(sent.sent_at, "2026-12-07T01:02:00Z");
  assert.equal(sent.view.payload, undefined); // the content leaves the device once sent
  // Saving the sent draft again (a late double tap) sends nothing more.
  await outbox.save({ key: draft, kind: "visit", payload: { client_id: 5, notes: "a" } });
  assert.equal((await outbox.syncRound(server)).total, 0);
});

test("records go in the order saved, a registration before the records for its client", async () => {
  const db = await fresh();
  const outbox = new Outbox(db, { owner: 1, key: await newDeviceKey() });
  const reg = Outbox.newDraftKey();
  await outbox.save({ key: reg, kind: "client", payload: { full_name: "Lò Văn A" } });
  await outbox.save({ key: Outbox.newDraftKey(), kind: "visit", payload: { client_id: `tmp:${reg}` } });
  let seen = [];
  await outbox.syncRound(async (records) => { seen = records.map((r) => r.kind); return []; });
  assert.deepEqual(seen, ["client", "visit"]);
  assert.equal((await outbox.counts()).waiting, 2); // no answer for them: they wait
});

test("a refused record keeps its content for correction and is resent under the same key", async () => {
  const db = await fresh();
  const outbox = new Outbox(db, { owner: 1, key: await newDeviceKey() });
  const draft = Outbox.newDraftKey();
  await outbox.save({ key: draft, kind: "drug_test", payload: { client_id: 5, tested_on: "2026-12-01" } });
  await outbox.syncRound(async (records) => records.map((r) => ({
    key: r.key, status: "kept", reason: "outbox.reason.rule", message: "Sai", fields: { tested_on: "Ngày sai" }, review_id: 4,
  })));
  const kept = await outbox.get(draft);
  assert.equal(kept.status, "kept");
  assert.equal(kept.view.result.fields.tested_on, "Ngày sai");
  assert.equal(kept.view.payload.tested_on, "2026-12-01");
  await outbox.resend(draft, { payload: { client_id: 5, tested_on: "2026-12-02" } });
  let sent;
  await outbox.syncRound(async (records) => { sent = records; return records.map((r) => ({ key: r.key, status: "applied", record_id: 1 })); });
  assert.equal(sent[0].key, draft);
  assert.equal(sent[0].payload.tested_on, "2026-12-02");
  assert.equal((await outbox.get(draft)).status, "sent");
});

test("the review list tells the device what the supervisor decided about its refused records", async () => {
  const db = await fresh();
  const outbox = new Outbox(db, { owner: 1, key: await newDeviceKey() });
  const [applied, dismissed, untouched] = [Outbox.newDraftKey(), Outbox.newDraftKey(), Outbox.newDraftKey()];
  for (const key of [applied, dismissed, untouched]) {
    await outbox.save({ key, kind: "visit", payload: { client_id: 5, notes: `ghi chú ${key}` }, label: { name: "Lò Thị B" } });
  }
  await outbox.syncRound(async (records) => records.map((r) => ({ key: r.key, status: "kept", reason: "outbox.reason.client_unavailable", message: "Không còn là đối tượng của bạn" })));
  assert.equal((await outbox.counts()).kept, 3);
  const changed = await outbox.reconcile([
    { key: applied, status: "applied", decision: "applied", record_id: 41, client_id: 9, applied_at: "2026-12-07T02:00:00Z" },
    { key: dismissed, status: "dismissed", decision: "dismissed", decision_reason: "Trùng với lần thăm đã ghi" },
    { key: untouched, status: "kept" },
    { key: "someone-else", status: "applied" },
  ]);
  assert.equal(changed, 2);
  const a = await outbox.get(applied);
  assert.equal(a.status, "sent");
  assert.equal(a.sent_at, "2026-12-07T02:00:00Z");
  assert.equal(a.view.payload, undefined); // the content leaves the device
  const d = await outbox.get(dismissed);
  assert.equal(d.status, "dismissed");
  assert.equal(d.view.result.decision_reason, "Trùng với lần thăm đã ghi");
  assert.equal(d.view.payload, undefined);
  assert.equal(d.view.label.name, "Lò Thị B"); // its line stays readable
  const u = await outbox.get(untouched);
  assert.equal(u.status, "kept");
  assert.match(u.view.payload.notes, /ghi chú/);
  // Nothing is sent again for the decided ones.
  assert.equal((await outbox.syncRound(async () => [])).total, 0);
});

test("another user of the device can neither read nor delete a volunteer's records", async () => {
  const db = await fresh();
  const mine = new Outbox(db, { owner: 1, key: await newDeviceKey() });
  const theirs = new Outbox(db, { owner: 2, key: await newDeviceKey() });
  const draft = Outbox.newDraftKey();
  await mine.save({ key: draft, kind: "visit", payload: { notes: "x" } });
  assert.deepEqual(await theirs.list(), []);
  assert.equal(await theirs.get(draft), null);
  assert.equal(await theirs.remove(draft), false);
  await assert.rejects(theirs.save({ key: draft, kind: "visit", payload: {} }));
  // Even reading the row directly, another key does not open it.
  const row = await db.get("outbox", draft);
  assert.equal((await theirs.open(row)).view, null);
  assert.equal((await mine.list()).length, 1);
});

test("a key that was exported and imported opens the same records", async () => {
  const db = await fresh();
  const key = await newDeviceKey();
  const draft = Outbox.newDraftKey();
  await new Outbox(db, { owner: 1, key }).save({ key: draft, kind: "visit", payload: { n: 1 } });
  const again = new Outbox(db, { owner: 1, key: await importKey(await exportKey(key)) });
  assert.deepEqual((await again.get(draft)).view.payload, { n: 1 });
});

test("route and payload client ids: numbers or temporary ids only", () => {
  assert.equal(clientRef("12"), 12);
  assert.equal(clientRef("tmp%3A0f0e0d0c-0000-4000-8000-000000000000"), "tmp:0f0e0d0c-0000-4000-8000-000000000000");
  assert.equal(clientRef("../admin"), null);
});

test("a wrapping key derived at the sign-in tap opens the vault with the password later", async () => {
  const { deriveWrappingKey, randomBytes, b64 } = await import("../../assets/device/src/crypto.js");
  const { loginHash } = await import("../../assets/device/src/vault.js");
  const db = await fresh();
  const vaults = new Vaults(db);
  const salt = randomBytes(16);
  const kek = await deriveWrappingKey("Mat-khau-2", salt);
  const key = await newDeviceKey();
  await vaults.keepWrapped({ userId: 4, loginHash: await loginHash("lan"), keyId: "k", deviceKey: key, kek, salt: b64(salt) });
  const out = await vaults.unlock({ login: "Lan", secret: "Mat-khau-2", wipeUser: (id) => wipeUser(db, id) });
  assert.equal(out.status, "ok");
  assert.equal(await exportKey(out.key), await exportKey(key));
});
