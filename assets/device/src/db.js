/* The device's IndexedDB database, through `idb` (Jake Archibald's promise wrapper: 1.2 kB,
 * the API of IndexedDB itself, without its event callbacks).
 *
 * Stores (nothing personal in the clear; see crypto.js):
 * - vaults    {user_id, login_hash, key_id, wraps: {password?, pin?}, tries, last_sync_at}
 * - outbox    {key, owner, seq, kind, status, saved_at, sent_at, tries, next_try_at, iv, ct}
 * - snapshots {owner, synced_at, iv, ct}
 * - meta      {id, value}: the device id (not a secret)
 */
import { deleteDB, openDB } from "idb";

export const DB_NAME = "dh-device";

export function openDevice(name = DB_NAME) {
  return openDB(name, 1, {
    upgrade(db) {
      db.createObjectStore("vaults", { keyPath: "user_id" });
      const outbox = db.createObjectStore("outbox", { keyPath: "key" });
      outbox.createIndex("owner", "owner");
      db.createObjectStore("snapshots", { keyPath: "owner" });
      db.createObjectStore("meta", { keyPath: "id" });
    },
    blocking() {
      // Another tab wipes the device: let the deletion through.
      this.close?.();
    },
  });
}

export function deleteDevice(name = DB_NAME) {
  return deleteDB(name);
}

/** The device id the server names this device's key by (made once, not a secret). */
export async function deviceId(db, makeId) {
  const row = await db.get("meta", "device_id");
  if (row) return row.value;
  const value = makeId();
  await db.put("meta", { id: "device_id", value });
  return value;
}
