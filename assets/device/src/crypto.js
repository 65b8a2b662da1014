/* Encryption on the device, WebCrypto only (no library: the platform's own primitives).
 *
 * - The device key: AES-GCM 256, made on the device for one user at their first online
 *   sign-in. Every record in the outbox and the caseload snapshot is sealed with it; the
 *   record's own key (or a label such as "snapshot") is the additional data, so a ciphertext
 *   cannot be moved onto another row.
 * - At rest the device key is only ever stored wrapped (AES-GCM) by a key derived from the
 *   user's password or PIN with PBKDF2-SHA-256, 600,000 iterations (OWASP 2023 minimum for
 *   PBKDF2-HMAC-SHA256), a random 16-byte salt per device and per secret.
 */

export const PBKDF2_ITERATIONS = 600_000;
const subtle = () => globalThis.crypto.subtle;
const utf8 = new TextEncoder();

export function b64(bytes) {
  const arr = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (let i = 0; i < arr.length; i += 1) s += String.fromCharCode(arr[i]);
  return btoa(s);
}

export function unb64(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
  return out;
}

export function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

export function uuid4() {
  return globalThis.crypto.randomUUID();
}

/** SHA-256 hex of a text: names a login on the device without keeping it readable. */
export async function sha256hex(text) {
  const digest = await subtle().digest("SHA-256", utf8.encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A fresh device key (extractable only so that it can be wrapped). */
export function newDeviceKey() {
  return subtle().generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
}

/** The key-wrapping key derived from a password or PIN. */
export async function deriveWrappingKey(secret, salt, iterations = PBKDF2_ITERATIONS) {
  const base = await subtle().importKey("raw", utf8.encode(secret.normalize("NFC")), "PBKDF2", false, ["deriveKey"]);
  return subtle().deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["wrapKey", "unwrapKey"],
  );
}

/** The device key wrapped by an already derived key (`salt` is the one it was derived with). */
export async function wrapWith(deviceKey, kek, salt, iterations = PBKDF2_ITERATIONS) {
  const iv = randomBytes(12);
  const wrapped = await subtle().wrapKey("raw", deviceKey, kek, { name: "AES-GCM", iv });
  return { salt, iterations, iv: b64(iv), wrapped: b64(wrapped) };
}

/** The device key wrapped under `secret`: {salt, iterations, iv, wrapped} (base64). */
export async function wrapDeviceKey(deviceKey, secret, { iterations = PBKDF2_ITERATIONS } = {}) {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const kek = await deriveWrappingKey(secret, salt, iterations);
  const wrapped = await subtle().wrapKey("raw", deviceKey, kek, { name: "AES-GCM", iv });
  return { salt: b64(salt), iterations, iv: b64(iv), wrapped: b64(wrapped) };
}

/** The device key from its wrap, or null if `secret` is wrong. */
export async function unwrapDeviceKey(box, secret) {
  const kek = await deriveWrappingKey(secret, unb64(box.salt), box.iterations);
  try {
    return await subtle().unwrapKey(
      "raw", unb64(box.wrapped), kek, { name: "AES-GCM", iv: unb64(box.iv) },
      { name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"],
    );
  } catch {
    return null;
  }
}

export async function exportKey(key) {
  return b64(await subtle().exportKey("raw", key));
}

export function importKey(text) {
  return subtle().importKey("raw", unb64(text), { name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
}

/** Encrypt a JSON value under `key`, bound to `label` (additional data). */
export async function seal(key, label, value) {
  const iv = randomBytes(12);
  const ct = await subtle().encrypt(
    { name: "AES-GCM", iv, additionalData: utf8.encode(label) }, key, utf8.encode(JSON.stringify(value)),
  );
  return { iv: b64(iv), ct: b64(ct) };
}

/** The JSON value sealed under `key` for `label`, or null if it does not open. */
export async function unseal(key, label, box) {
  try {
    const pt = await subtle().decrypt(
      { name: "AES-GCM", iv: unb64(box.iv), additionalData: utf8.encode(label) }, key, unb64(box.ct),
    );
    return JSON.parse(new TextDecoder().decode(pt));
  } catch {
    return null;
  }
}
