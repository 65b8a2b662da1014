/* Who may open what on this device: one vault per user who has signed in here online.
 *
 * A vault keeps the user's device key wrapped by their password (captured at the online
 * sign-in, never stored) and optionally by a PIN of at least 6 digits. Unlocking offline
 * derives the wrapping key again (PBKDF2, 600,000 iterations) and unwraps. Every attempt is
 * counted before it is tried (closing the tab mid-attempt still counts); the fifth wrong one
 * in a row wipes that user's vault, outbox and snapshot. A login is kept only as a SHA-256
 * hash, so the device does not tell who has used it.
 */
import { sha256hex, unwrapDeviceKey, wrapDeviceKey, wrapWith } from "./crypto.js";

export const MAX_TRIES = 5;
export const PIN_PATTERN = /^[0-9]{6,12}$/;

export function loginHash(login) {
  return sha256hex("dh-login:" + String(login).trim().toLowerCase());
}

export class Vaults {
  constructor(db, { iterations } = {}) {
    this.db = db;
    this.iterations = iterations; // tests pass fewer; the app never does
  }

  get(userId) {
    return this.db.get("vaults", userId);
  }

  /** Keep `deviceKey` for `userId`, wrapped by the password just typed at sign-in. */
  async keep({ userId, login, keyId, deviceKey, password }) {
    const old = await this.get(userId);
    const wraps = { password: await wrapDeviceKey(deviceKey, password, this.opts()) };
    // A PIN set earlier still opens the same key (a new key id: the PIN must be set again).
    if (old && old.key_id === keyId && old.wraps.pin) wraps.pin = old.wraps.pin;
    const row = {
      user_id: userId, login_hash: await loginHash(login), key_id: keyId, wraps,
      tries: 0, last_sync_at: old ? old.last_sync_at : null,
    };
    await this.db.put("vaults", row);
    return row;
  }

  /** Like keep(), with the password's wrapping key derived earlier (at the sign-in tap). */
  async keepWrapped({ userId, loginHash: hash, keyId, deviceKey, kek, salt }) {
    const old = await this.get(userId);
    const wraps = { password: await wrapWith(deviceKey, kek, salt) };
    if (old && old.key_id === keyId && old.wraps.pin) wraps.pin = old.wraps.pin;
    const row = { user_id: userId, login_hash: hash, key_id: keyId, wraps, tries: 0, last_sync_at: old ? old.last_sync_at : null };
    await this.db.put("vaults", row);
    return row;
  }

  async setPin(userId, deviceKey, pin) {
    if (!PIN_PATTERN.test(pin)) throw new Error("pin");
    const row = await this.get(userId);
    if (!row) throw new Error("no vault");
    row.wraps.pin = await wrapDeviceKey(deviceKey, pin, this.opts());
    await this.db.put("vaults", row);
  }

  async touchSync(userId, at) {
    const row = await this.get(userId);
    if (!row) return;
    row.last_sync_at = at;
    await this.db.put("vaults", row);
  }

  /**
   * Unlock with a login and a password or PIN.
   * → {status: "ok", userId, key} | {status: "wrong", left} | {status: "wiped"} | {status: "unknown"}
   */
  async unlock({ login, secret, wipeUser }) {
    const hash = await loginHash(login);
    const row = (await this.db.getAll("vaults")).find((v) => v.login_hash === hash);
    if (!row) return { status: "unknown" };
    row.tries += 1;
    await this.db.put("vaults", row);
    const boxes = [row.wraps.password, PIN_PATTERN.test(secret) ? row.wraps.pin : null].filter(Boolean);
    // Both derivations at once when the secret may be either (WebCrypto runs them off the
    // page's thread): a PIN opens the device in one PBKDF2 time, not two.
    const key = (await Promise.all(boxes.map((box) => unwrapDeviceKey(box, secret)))).find(Boolean);
    if (key) {
      row.tries = 0;
      await this.db.put("vaults", row);
      return { status: "ok", userId: row.user_id, key, keyId: row.key_id };
    }
    if (row.tries >= MAX_TRIES) {
      await wipeUser(row.user_id);
      return { status: "wiped" };
    }
    return { status: "wrong", left: MAX_TRIES - row.tries };
  }

  opts() {
    return this.iterations ? { iterations: this.iterations } : {};
  }
}

/** Delete everything of one user on this device: vault, outbox, snapshot. */
export async function wipeUser(db, userId) {
  const tx = db.transaction(["vaults", "outbox", "snapshots"], "readwrite");
  await tx.objectStore("vaults").delete(userId);
  const keys = await tx.objectStore("outbox").index("owner").getAllKeys(userId);
  await Promise.all(keys.map((k) => tx.objectStore("outbox").delete(k)));
  await tx.objectStore("snapshots").delete(userId);
  await tx.done;
}
