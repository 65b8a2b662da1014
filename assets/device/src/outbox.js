/* The outbox: every volunteer record is saved here first, sealed with the user's device key,
 * and sent to POST /api/outbox/sync from here, online or not (the one write path).
 *
 * A record is saved under a key made on the device when its form was opened (UUIDv4): the
 * same key for every resend, after a correction too, so the server stores it once whatever
 * the retries (double tap, reload, lost answer, websocket drop: none reach the server twice
 * as two records). In the clear only what sending and the lists need: key, owner (user id),
 * order, kind, status and times; the record itself is sealed (crypto.js).
 *
 * Statuses on the device: waiting → sent (the server stored it: `applied`), or kept (the
 * server refused it and keeps it in the review list: correct and resend, or withdraw), or
 * question (a registration that may be a client already: answer and resend).
 */
import { seal, unseal, uuid4 } from "./crypto.js";

export const BATCH = 50;
// A sent record's line ("Đã gửi lúc …") stays this long; its content is dropped at once.
export const SENT_KEEP_MS = 3 * 24 * 3600 * 1000;
export const TEMP_PREFIX = "tmp:";

let counter = 0;
function nextSeq(now) {
  counter = (counter + 1) % 1000;
  return now * 1000 + counter;
}

export class SessionGone extends Error {
  constructor(status) {
    super("session");
    this.status = status;
  }
}

export class Outbox {
  constructor(db, { owner, key, now = () => Date.now() }) {
    this.db = db;
    this.owner = owner;
    this.key = key;
    this.now = now;
  }

  static newDraftKey() {
    return uuid4();
  }

  /** Save (or re-save, after a correction) one record. Saving a sent record changes nothing. */
  async save({ key, kind, payload, context = {}, label = {}, confirm = false, answer = null }) {
    const old = await this.db.get("outbox", key);
    if (old && old.owner !== this.owner) throw new Error("not yours");
    if (old && old.status === "sent") return this.open(old);
    const at = this.now();
    const view = { payload, context, label, confirm, answer, result: null };
    const row = {
      key, owner: this.owner, kind, status: "waiting",
      seq: old ? old.seq : nextSeq(at),
      saved_at: at, sent_at: null, tries: 0,
      ...(await seal(this.key, key, view)),
    };
    await this.db.put("outbox", row);
    return { ...row, view };
  }

  async open(row) {
    const view = await unseal(this.key, row.key, row);
    return { ...row, view };
  }

  /** This user's records, oldest first, opened (`view` null if sealed under another key). */
  async list() {
    const rows = await this.db.getAllFromIndex("outbox", "owner", this.owner);
    rows.sort((a, b) => a.seq - b.seq);
    return Promise.all(rows.map((row) => this.open(row)));
  }

  async get(key) {
    const row = await this.db.get("outbox", key);
    return row && row.owner === this.owner ? this.open(row) : null;
  }

  async counts() {
    const rows = await this.db.getAllFromIndex("outbox", "owner", this.owner);
    const out = { waiting: 0, sent: 0, kept: 0, question: 0 };
    for (const r of rows) out[r.status] = (out[r.status] || 0) + 1;
    return out;
  }

  /** Remove one of this user's own records (a withdrawn one). Another user's: refused. */
  async remove(key) {
    const row = await this.db.get("outbox", key);
    if (!row || row.owner !== this.owner) return false;
    await this.db.delete("outbox", key);
    return true;
  }

  async update(item, changes, view) {
    const next = { ...item, ...changes };
    delete next.view;
    if (view !== undefined) Object.assign(next, await seal(this.key, item.key, view));
    await this.db.put("outbox", next);
    return { ...next, view: view === undefined ? item.view : view };
  }

  /** Drop the lines of records sent (or given up) long ago. */
  async prune() {
    const rows = await this.db.getAllFromIndex("outbox", "owner", this.owner);
    const old = rows.filter((r) => (r.status === "sent" || r.status === "dismissed") && this.now() - (r.sent_at_ms || 0) > SENT_KEEP_MS);
    await Promise.all(old.map((r) => this.db.delete("outbox", r.key)));
  }

  /**
   * One round: every waiting record, in order, in batches, through `send(records)` (which
   * answers the server's `results` or throws: NoAnswer, SessionGone). Answers a summary.
   */
  async syncRound(send, { batch = BATCH } = {}) {
    const items = (await this.list()).filter((i) => i.status === "waiting" && i.view);
    const summary = { sent: 0, kept: 0, question: 0, waiting: 0, total: items.length };
    for (let i = 0; i < items.length; i += batch) {
      const chunk = items.slice(i, i + batch);
      const results = await send(chunk.map(toRequest));
      const byKey = new Map((results || []).map((r) => [r.key, r]));
      for (const item of chunk) {
        const r = byKey.get(item.key);
        const status = await this.apply(item, r);
        summary[status] = (summary[status] || 0) + 1;
      }
    }
    return summary;
  }

  /** Record the server's answer for one record; returns its new device status. */
  async apply(item, r) {
    if (!r || r.status === "waiting") {
      await this.update(item, { tries: (item.tries || 0) + 1 });
      return "waiting";
    }
    if (r.status === "applied") {
      // The server has it: keep only the line the list shows (and the real id of a client
      // registered here, so its temporary id can still be shown as that client).
      const view = { label: item.view.label, record_id: r.record_id, client_id: r.client_id ?? null, linked: !!r.linked };
      const sentAt = r.applied_at || r.received_at || new Date(this.now()).toISOString();
      await this.update(item, { status: "sent", sent_at: sentAt, sent_at_ms: this.now() }, view);
      return "sent";
    }
    const result = {
      reason: r.reason || "", message: r.message || "", fields: r.fields || {},
      confirmable: !!r.confirmable, review_id: r.review_id ?? null,
      candidates: r.candidates || [], hidden_count: r.hidden_count || 0,
    };
    const status = r.status === "question" ? "question" : "kept";
    await this.update(item, { status }, { ...item.view, result, answer: null, confirm: false });
    return status;
  }

  /**
   * What the server's review list (GET review) says of the records refused here: applied by a
   * supervisor → sent; dismissed by them, or withdrawn → dismissed, its content dropped from the
   * device (the server keeps it in the review list). Answers how many changed.
   */
  async reconcile(reviewItems) {
    const byKey = new Map((reviewItems || []).map((r) => [r.key, r]));
    let changed = 0;
    for (const item of await this.list()) {
      const r = byKey.get(item.key);
      if (!r || !item.view || (item.status !== "kept" && item.status !== "question")) continue;
      if (r.status === "applied") {
        await this.apply(item, r);
        changed += 1;
      } else if (r.status === "dismissed") {
        await this.dismissed(item, r.decision || "dismissed", r.decision_reason || "");
        changed += 1;
      }
    }
    return changed;
  }

  /** A refused record nobody will send: only its line stays, with who decided and why. */
  async dismissed(item, decision, reason = "") {
    const view = { label: item.view.label, result: { decision, decision_reason: reason } };
    await this.update(item, { status: "dismissed", sent_at_ms: this.now() }, view);
  }

  /** After a refusal or a question: resend, corrected (`payload`), confirmed or answered. */
  async resend(key, { payload, confirm, answer } = {}) {
    const item = await this.get(key);
    if (!item || !item.view || item.status === "sent") return null;
    const view = { ...item.view, result: null };
    if (payload) view.payload = payload;
    if (confirm !== undefined) view.confirm = !!confirm;
    if (answer !== undefined) view.answer = answer;
    return this.update(item, { status: "waiting", tries: 0, saved_at: this.now() }, view);
  }
}

export function toRequest(item) {
  return {
    key: item.key,
    kind: item.kind,
    saved_at: new Date(item.saved_at).toISOString(),
    payload: item.view.payload,
    context: item.view.context || {},
    confirm: !!item.view.confirm,
    answer: item.view.answer || null,
  };
}

/** The client id a route or payload names: a number, a "tmp:<uuid>" string, or null. */
export function clientRef(value) {
  const text = decodeURIComponent(String(value ?? ""));
  if (/^[0-9]{1,12}$/.test(text)) return Number(text);
  if (/^tmp:[0-9a-f-]{36}$/.test(text)) return text;
  return null;
}
