/* Đồng Hành on the volunteer's device: one bundle (/device/app.js), which every page's first
 * lines (boot.js) load once the page has drawn its data, or sooner when it is needed.
 *
 * - Registers the service worker (workbox-window) that keeps the code of every screen, and
 *   fetches the session's key and caseload, once the page has drawn its data (firstContact).
 * - Every volunteer record form (`<form data-outbox="kind">`) saves into the encrypted outbox
 *   first and is sent through POST /api/outbox/sync, online or not (outbox.js).
 * - Connectivity by evidence (net.js): offline when a request goes unanswered for 8 s;
 *   retries with backoff and jitter (backoff.js); "Gửi ngay"; last successful sync.
 * - Offline, Today, My clients and a client's page are drawn here from the encrypted
 *   snapshot; a device opened cold with no signal asks for the password or PIN (vault.js).
 * - Sign-out and expiry forget the key and clear the screen at once, online or offline.
 */
import { Workbox } from "workbox-window";

import { retryDelay } from "./backoff.js";
import { b64, deriveWrappingKey, exportKey, importKey, randomBytes, seal, unseal, uuid4 } from "./crypto.js";
import { deleteDevice, deviceId, openDevice } from "./db.js";
import { h, lang, t } from "./dom.js";
import { readForm, STAYS_OPEN } from "./forms.js";
import { Connectivity, fetchWithin, NoAnswer } from "./net.js";
import { clientRef, Outbox, SessionGone, TEMP_PREFIX } from "./outbox.js";
import { drawnHere, hydrated, LINK, pageDrawn, recentLink, signInFields } from "./page.js";
import { clock, fold, matches, showDate, stamp, stampToday, vnDate } from "./text.js";
import { loginHash, PIN_PATTERN, Vaults, wipeUser } from "./vault.js";

const API = "/api/outbox/";
const SLOT = "dh_device_unlocked"; // sessionStorage: the unlocked key, for this tab only
const ANSWER_MS = 8_000; // under the 10 s after which a silent link counts as offline
const SYNC_EVERY_MS = 30_000;
const DEFAULT_IDLE_MIN = 30;
// Server field names → the form control that shows them.
const FIELD_ALIAS = { risk_flags: "risk", substances: "substance" };
const CLIENT_FORMS = { visit: "visit", test: "drug_test", referral: "referral", support: "support" };

const st = {
  db: null, vaults: null, deviceId: null,
  user: null, key: null, keyId: null, outbox: null, snap: null,
  conn: new Connectivity(), failures: 0, nextTryAt: 0, syncing: null,
  lastSyncAt: null, lastRoundAt: 0, cookie: null, connecting: null,
  credentials: null, needPin: false, needSignin: false, role: "unknown",
  lastInput: Date.now(), panel: false, lockMessage: "", view: null,
  epoch: 0, // counts forget(): work begun before one must not unlock the device after it
  ready: new Promise(() => {}), passThrough: null,
  contacted: false, // the device has begun talking to the server (firstContact)
  contact: null, // and what that first contact is doing (a promise)
  stripWatch: null, stripHeight: 0, // the strip's mount, the observer of its height, the height (stripRoom)
};

// ---- helpers ------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The session's readable marker (`dh_signed_in`; the session cookie itself is HttpOnly):
 * it changes with each sign-in and is gone when the session is. */
function sessionCookie() {
  const m = document.cookie.match(/(?:^|;\s*)dh_signed_in=([^;]*)/);
  return m ? m[1] : "";
}

function path() {
  return location.pathname.replace(/\/+$/, "") || "/";
}

function routeClient() {
  const m = path().match(/^\/clients\/([^/]+)/);
  return m && m[1] !== "new" ? clientRef(m[1]) : null;
}

function root() {
  let el = document.getElementById("dh-device");
  if (!el) {
    el = h("div", { id: "dh-device" });
    document.body.append(el);
  }
  return el;
}

function notice(text, tone = "ok", ms = 4000) {
  document.getElementById("dh-notice")?.remove();
  // Shown again on the next page if this one is left at once (a load from the cache).
  try { sessionStorage.setItem("dh_flash", JSON.stringify({ text, tone, until: Date.now() + (ms || 8000) })); } catch { /* disabled */ }
  const el = h("div", { id: "dh-notice", role: tone === "error" ? "alert" : "status", "data-tone": tone, text });
  if (st.stripHeight) el.style.translate = `0 -${st.stripHeight}px`; // above the strip (stripRoom)
  root().append(el);
  if (ms) setTimeout(() => el.remove(), ms);
}

// ---- the server -----------------------------------------------------------------------------

async function api(name, { method = "GET", body } = {}) {
  let res;
  try {
    res = await fetchWithin(API + name, {
      method, credentials: "same-origin", cache: "no-store",
      headers: {
        "X-DH-Offline": "1", "X-DH-Lang": lang(), "X-DH-Device": st.deviceId,
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    }, { ms: ANSWER_MS });
  } catch (err) {
    if (err instanceof NoAnswer) onNoAnswer();
    throw err;
  }
  st.conn.answered();
  if (res.status === 401 || res.status === 403) throw new SessionGone(res.status);
  if (!res.ok) throw new Error(`${name}: ${res.status}`);
  return res.json();
}

function onNoAnswer() {
  st.conn.noAnswer();
  st.failures += 1;
  st.nextTryAt = Date.now() + retryDelay(st.failures);
}

/** Is anyone there? For a device with no session to ask with. */
async function probe() {
  try {
    await fetchWithin("/ping", { cache: "no-store" }, { ms: ANSWER_MS });
    st.conn.answered();
    st.failures = 0;
  } catch {
    onNoAnswer();
  }
}

// ---- keys, vaults, snapshot ---------------------------------------------------------------------

/** Unlock the device for `user`; false (and nothing kept) when the user was forgotten meanwhile
 * (a sign-out, an expiry or the lock while a sign-in or a page's connection was under way). */
async function adopt({ user, key, keyId }) {
  const epoch = st.epoch;
  const stale = () => epoch !== st.epoch;
  let exported = null;
  try { exported = await exportKey(key); } catch { /* not extractable: unlock again on reload */ }
  if (stale()) return false;
  st.user = user;
  st.key = key;
  st.keyId = keyId;
  st.outbox = new Outbox(st.db, { owner: user.id, key });
  try {
    if (exported) sessionStorage.setItem(SLOT, JSON.stringify({ user, key_id: keyId, key: exported }));
  } catch { /* private mode: unlock again on reload */ }
  const vault = await st.vaults.get(user.id);
  if (stale()) return false;
  st.lastSyncAt = vault ? vault.last_sync_at : null;
  st.needPin = !vault;
  await loadSnapshot();
  if (stale()) { st.snap = null; return false; }
  await st.outbox.prune();
  if (stale()) return false;
  document.documentElement.setAttribute("data-dh-unlocked", "");
  render();
  return true;
}

/** Forget the key and everything shown: the screen holds nothing personal afterwards. */
function forget() {
  st.epoch += 1;
  // The last save's confirmation names the client; a correction in progress names a record.
  try { for (const k of [SLOT, "dh_flash", SAVED, FIX]) sessionStorage.removeItem(k); } catch { /* disabled */ }
  document.querySelector("#saved-notice [data-dh-saved]")?.remove();
  Object.assign(st, { user: null, key: null, keyId: null, outbox: null, snap: null, credentials: null, panel: false, view: null, items: [], temp: [] });
  document.documentElement.removeAttribute("data-dh-unlocked");
  document.getElementById("dh-notice")?.remove();
  render();
}

async function restoreSlot() {
  let slot = null;
  try { slot = JSON.parse(sessionStorage.getItem(SLOT) || "null"); } catch { slot = null; }
  if (!slot || !slot.key || !slot.user) return;
  if (!(await st.vaults.get(slot.user.id)) && !sessionCookie()) return; // wiped meanwhile
  await adopt({ user: slot.user, key: await importKey(slot.key), keyId: slot.key_id });
}

async function loadSnapshot() {
  st.snap = null;
  const row = await st.db.get("snapshots", st.user.id);
  if (!row) return;
  const snap = await unseal(st.key, "snapshot", row);
  if (!snap) return;
  const days = snap.expires_after_days || 7;
  if (st.lastSyncAt && Date.now() - Date.parse(st.lastSyncAt) > days * 86_400_000) {
    await st.db.delete("snapshots", st.user.id); // too old: the caseload may have changed hands
    return;
  }
  st.snap = snap;
}

async function keepSnapshot(snap) {
  st.snap = snap;
  await st.db.put("snapshots", { owner: st.user.id, synced_at: snap.generated_at, ...(await seal(st.key, "snapshot", snap)) });
}

/** A signed-in session on this device: fetch the key and the caseload, keep them sealed. */
/** A sign-out made offline, finished on the first page that reaches the server: the app's
 * own sign-out (the server ends the session and removes its cookie, then leaves). */
async function finishSignOut() {
  if (!st.pendingSignOut) return false;
  const button = document.getElementById("sign-out");
  if (!button || st.conn.state !== "online") return true; // next tick, on a page that has one
  st.pendingSignOut = false;
  await st.db.delete("meta", "sign_out_pending");
  st.signingOut = true;
  cover(true);
  button.click();
  return true;
}

async function connect() {
  if (await finishSignOut()) return null;
  if (st.connecting) return st.connecting;
  st.connecting = (async () => {
    const epoch = st.epoch;
    try {
      const device = await api("device", { method: "POST", body: {} });
      const snap = await api("snapshot");
      if (epoch !== st.epoch) return; // signed out (or locked) while the server answered
      st.role = "volunteer";
      st.needSignin = false;
      const key = await importKey(btoa(String.fromCharCode(...device.key.match(/../g).map((x) => parseInt(x, 16)))));
      const creds = st.credentials;
      st.credentials = null;
      const pending = await pendingWrap();
      if (creds) {
        await st.vaults.keep({ userId: snap.user.id, login: creds.login, keyId: device.key_id, deviceKey: key, password: creds.password });
      } else if (pending) {
        await st.vaults.keepWrapped({ userId: snap.user.id, loginHash: pending.login_hash, keyId: device.key_id, deviceKey: key, kek: pending.kek, salt: pending.salt });
      }
      if (!(await adopt({ user: snap.user, key, keyId: device.key_id }))) return;
      await keepSnapshot(snap);
      await syncNow();
    } catch (err) {
      if (err instanceof SessionGone) {
        st.role = err.status === 403 ? "other" : st.role;
        st.needSignin = err.status === 401;
        st.credentials = null;
      }
    } finally {
      st.connecting = null;
      render();
    }
  })();
  return st.connecting;
}

// ---- sync -----------------------------------------------------------------------------------------

async function send(records) {
  const out = await api("sync", { method: "POST", body: { records } });
  return out.results || [];
}

/** One round of sending, if there is anything to send and nobody is sending already. */
function syncNow() {
  if (!st.outbox) return Promise.resolve(null);
  // A round under way may have started before the latest save: another one follows it.
  if (st.syncing) return st.syncing.then(() => syncNow());
  st.syncing = (async () => {
    st.lastRoundAt = Date.now();
    render();
    try {
      const summary = await st.outbox.syncRound(send);
      // Records refused here may have been decided since by the supervisor (applied, or
      // dismissed): the review list says so.
      const counts = await st.outbox.counts();
      if (counts.kept || counts.question) {
        try { await st.outbox.reconcile((await api("review")).items); } catch (err) { if (err instanceof SessionGone) throw err; }
      }
      st.failures = 0;
      st.nextTryAt = 0;
      st.lastSyncAt = new Date().toISOString();
      // "Saved on this device, sent when there is signal" is no longer true once it went.
      const shown = document.getElementById("dh-notice");
      if (summary.sent && shown && [t("device.saved_offline"), t("device.saved_here")].includes(shown.textContent)) {
        notice(t("device.sent_at", { time: clock(Date.now()) }), "ok", 4000);
      }
      await st.vaults.touchSync(st.user.id, st.lastSyncAt);
      if (summary.total) {
        try { await keepSnapshot(await api("snapshot")); } catch { /* next round */ }
      }
      return summary;
    } catch (err) {
      if (err instanceof SessionGone) st.needSignin = true;
      else if (!(err instanceof NoAnswer)) { st.failures += 1; st.nextTryAt = Date.now() + retryDelay(st.failures); }
      return null;
    } finally {
      st.syncing = null;
      await refreshTemp();
      render();
    }
  })();
  return st.syncing;
}

function tick() {
  if (!st.contacted) return; // the page is still drawing its data: nothing of ours on the link
  const now = Date.now();
  if (st.pendingSignOut) {
    if (st.conn.state !== "online") probe();
    finishSignOut();
    return;
  }
  const cookie = sessionCookie();
  if (cookie !== st.cookie) {
    st.cookie = cookie;
    if (cookie && st.role !== "other") connect();
  }
  if (st.user && st.conn.state === "offline" && now - st.lastInput > idleMinutes() * 60_000) {
    lock();
    return;
  }
  if (st.user && !cookie) st.needSignin = true; // records wait for the next online sign-in
  if (now < st.nextTryAt) return;
  if (st.conn.state === "offline" || st.conn.state === "unknown") {
    if (cookie && !st.needSignin && st.role !== "other") connect();
    else probe().then(render);
    return;
  }
  if (st.outbox && !st.needSignin && now - st.lastRoundAt > SYNC_EVERY_MS) syncNow();
}

function idleMinutes() {
  return (st.snap && st.snap.idle_minutes) || DEFAULT_IDLE_MIN;
}

// ---- the forms: one write path ---------------------------------------------------------------------

function clientOf(ref) {
  if (ref === null || ref === undefined) return null;
  const found = (st.snap?.clients || []).find((c) => c.id === ref);
  if (found) return found;
  return tempClients().find((c) => c.id === ref) || null;
}

/** Clients registered on this device and not yet in the snapshot. */
function tempClients() {
  return (st.temp || []);
}

async function refreshTemp() {
  if (!st.outbox) { st.temp = []; return; }
  const items = await st.outbox.list();
  st.items = items;
  st.temp = items.filter((i) => i.kind === "client" && i.status !== "sent" && i.view && i.view.payload)
    .map((i) => ({ id: TEMP_PREFIX + i.key, full_name: i.view.payload.full_name, birth_year: i.view.payload.birth_year,
      commune_name: placeName(i.view.payload.commune_id), temp: true, status: i.status, due: [], recent: [], open_referrals: [] }));
}

function placeName(id) {
  return (st.snap?.places || []).find((p) => p.id === Number(id))?.name || "";
}

function draftSlot(form) {
  return `dh_draft:${path()}:${form.id}`;
}

function clearFieldErrors(form) {
  form.querySelectorAll(".dh-field-error").forEach((el) => el.remove());
  form.querySelectorAll("[data-dh-invalid]").forEach((el) => {
    el.setAttribute("aria-invalid", "false");
    el.removeAttribute("data-dh-invalid");
  });
}

/** The field a problem is about: the input, select or textarea of its group, or by id/name. */
function fieldOf(form, name) {
  const id = FIELD_ALIAS[name] || name;
  const group = form.querySelector(`#${CSS.escape(id)}-group`);
  return group?.querySelector("input:not([type=hidden]), select, textarea")
    || form.querySelector(`#${CSS.escape(id)}`) || form.querySelector(`[name="${CSS.escape(id)}"]`);
}

/** Make the named fields shown: a closed section holding one is opened (its button, as a tap
 * would), and one drawn only at its first opening (client_cards.lazy_disclosure: the
 * register form's details) is opened and waited for. Fields no section holds are left. */
async function revealFields(form, names) {
  const opened = new Set();
  const open = (button) => {
    const panel = document.getElementById(button?.getAttribute("aria-controls") || "");
    if (!panel || opened.has(panel)) return;
    button.click();
    opened.add(panel);
  };
  let absent = false;
  for (const name of names) {
    const field = fieldOf(form, name);
    if (!field) { absent = true; continue; }
    const panel = field.closest("[hidden][id$='-panel']");
    if (panel) open(form.querySelector(`[aria-controls="${CSS.escape(panel.id)}"][aria-expanded=false]`));
  }
  if (absent) {
    for (const button of form.querySelectorAll("button.dh-disclosure[aria-expanded=false]")) {
      const panel = document.getElementById(button.getAttribute("aria-controls") || "");
      if (panel && !panel.querySelector("input, select, textarea")) open(button); // not drawn yet
    }
  }
  const shown = (panel) => !panel.hidden && panel.querySelector("input, select, textarea");
  for (let n = 0; n < 40 && [...opened].some((panel) => !shown(panel)); n++) await sleep(25); // React draws it
}

function showFieldErrors(form, errors) {
  clearFieldErrors(form);
  for (const [name, message] of Object.entries(errors)) {
    const id = FIELD_ALIAS[name] || name;
    const anchor = form.querySelector(`#${CSS.escape(id)}-group`) || form.querySelector(`#${CSS.escape(id)}`)
      || form.querySelector(`[name="${CSS.escape(id)}"]`) || form.querySelector("[type=submit]");
    // The same shape as the page's own field errors (app/components/forms.py field_error).
    const p = h("p", { class: "dh-field-error", role: "alert", "data-field-error": name, id: `${name}-error`, text: message });
    const box = anchor.closest("label, fieldset, [id$='-group']") || anchor;
    box.after(p);
    // As the page's own fields say it (app/components/forms.py): invalid, described by it.
    const field = fieldOf(form, name);
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", p.id);
      field.setAttribute("data-dh-invalid", "");
    }
  }
  const first = form.querySelector(".dh-field-error");
  if (first) {
    first.scrollIntoView({ block: "center" });
    fieldOf(form, first.getAttribute("data-field-error"))?.focus({ preventScroll: true });
  }
}

function labelFor(kind, payload, client) {
  const date = payload.visit_date || payload.tested_on || payload.referred_on || payload.started_on
    || payload.contact_date || payload.held_on || "";
  return { name: client ? client.full_name : (payload.full_name || ""), date };
}

async function onSubmit(event) {
  const form = event.target;
  const kind = form?.dataset?.outbox;
  if (!kind) return;
  if (st.passThrough === form) { st.passThrough = null; return; } // handed to React below
  if (st.role === "other") return; // supervisors and others stay on the websocket
  event.preventDefault();
  event.stopImmediatePropagation();
  if (form.dataset.saving) return; // a double tap while saving
  if (!st.outbox) {
    // The page has just loaded: the key is being restored, or fetched for this session.
    form.dataset.saving = "1";
    try {
      await st.ready;
      await firstContact(); // a tap before the page has drawn: the key is fetched now
      if (!st.outbox && st.connecting) await st.connecting;
    } finally {
      delete form.dataset.saving;
    }
    if (st.role === "other") { st.passThrough = form; form.requestSubmit(); return; }
    if (!st.outbox) {
      notice(t(st.needSignin ? "device.need_signin" : "device.need_unlock"), "error", 6000);
      return;
    }
  }
  const clientId = routeClient();
  const { payload, errors } = readForm(kind, [...new FormData(form).entries()], { clientId, today: vnDate() });
  const shown = Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, t(v)]));
  await revealFields(form, Object.keys(shown));
  showFieldErrors(form, shown);
  if (Object.keys(errors).length) {
    notice(t("device.check_fields"), "error");
    return;
  }
  const button = form.querySelector("[type=submit]");
  form.dataset.saving = "1";
  if (button) button.disabled = true;
  try {
    let key = sessionStorage.getItem(draftSlot(form));
    if (!key) {
      key = uuid4();
      sessionStorage.setItem(draftSlot(form), key);
    }
    const client = clientOf(clientId);
    const context = client && client.open_episode ? { episode_id: client.open_episode.id } : {};
    performance.mark("dh-save-start");
    const saved = await st.outbox.save({ key, kind, payload, context, label: labelFor(kind, payload, client) });
    performance.measure("dh-outbox-save", "dh-save-start"); // read by bench/device.py
    await refreshTemp();
    notice(saved.status === "sent" ? t("device.sent_at", { time: clock(Date.parse(saved.sent_at)) }) : t("device.saved_here"), "ok", 0);
    render();
    // Unless the device knows it is offline, wait for the server's answer (or the evidence
    // that none comes): a refusal is then shown on the form, next to its field.
    const answered = st.conn.state !== "offline" ? await Promise.race([syncNow().then(() => true), sleep(ANSWER_MS + 500)]) : false;
    const item = await st.outbox.get(key);
    await refreshTemp();
    render();
    if (item.status === "kept" && item.view?.result) {
      await revealFields(form, Object.keys(item.view.result.fields || {}));
      showFieldErrors(form, item.view.result.fields || {});
      notice(item.view.result.message || t("device.kept"), "error", 8000);
      return; // correct and save again: the same key, resent
    }
    if (item.status === "question") {
      showQuestion(item, form);
      return;
    }
    finish(form, kind, item, clientId, answered);
  } finally {
    delete form.dataset.saving;
    if (button) button.disabled = false;
  }
}

function finish(form, kind, item, clientId, answered) {
  sessionStorage.removeItem(draftSlot(form));
  sessionStorage.removeItem(FIX);
  st.fixedForm = null;
  notice(item.status === "sent" ? t("device.sent_at", { time: clock(Date.parse(item.sent_at)) })
    : t(answered ? "device.saved_here" : "device.saved_offline"), "ok", 5000);
  // What was typed (a record sent keeps no copy of it on the device).
  const payload = item.view?.payload || readForm(kind, [...new FormData(form).entries()], { clientId, today: vnDate() }).payload;
  if (STAYS_OPEN.has(kind)) {
    form.reset();
    clearFieldErrors(form);
    confirmSaved(savedText(kind, payload, null), path());
    return;
  }
  let target = "/clients";
  if (kind === "client") target = `/clients/${item.status === "sent" && item.view.client_id ? item.view.client_id : encodeURIComponent(TEMP_PREFIX + item.key)}`;
  else if (clientId !== null) target = `/clients/${encodeURIComponent(clientId)}`;
  confirmSaved(savedText(kind, payload, clientOf(clientId)), target);
  go(target);
}

// ---- the confirmation of a save --------------------------------------------------------------
// The same place, words and behaviour as the page's own (`saved_notice()` in
// app/components/forms.py): what was saved, named, at the top of the screen the user lands on,
// announced (a live region) and focused; kept until they open another screen.

const SAVED = "dh_saved"; // sessionStorage: { text, route, shownAt }

/** "Đã lưu lần thăm Nguyễn Văn An ngày 07/12/2026." — the catalogue's words for this kind. */
function savedText(kind, payload, client) {
  const name = client?.full_name || payload.full_name || document.getElementById("client-name")?.textContent || "";
  const date = showDate(payload.visit_date || payload.tested_on || payload.contact_date || payload.held_on || vnDate());
  if (kind === "client") return t("vol.reg.saved", { name, year: payload.birth_year ?? "" });
  if (kind === "referral") {
    const facility = (st.snap?.facilities || []).find((f) => f.id === Number(payload.facility_id))?.name
      || document.querySelector("select[name=facility_id] option:checked")?.textContent || "";
    return t("rec.saved.referral", { name, facility });
  }
  const key = { visit: "rec.saved.visit", test: "rec.saved.test", support: "rec.saved.support",
    outreach_contact: "rec.saved.outreach", group_activity: "rec.saved.group" }[kind];
  return key ? t(key, { name, date }) : t("device.saved_here");
}

function confirmSaved(text, route) {
  try { sessionStorage.setItem(SAVED, JSON.stringify({ text, route, shownAt: 0, at: Date.now() })); } catch { /* disabled */ }
  showSaved();
}

/** Draw the last confirmation on its screen (again, if React drew the frame anew); forget it
 * once another screen is open. */
function showSaved() {
  let saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(SAVED) || "null"); } catch { /* disabled */ }
  const box = document.getElementById("saved-notice");
  const mine = box?.querySelector("[data-dh-saved]");
  const here = saved && path() === saved.route;
  if (!here) {
    mine?.remove();
    // Shown and left, or never reached (a navigation that did not happen): over.
    if (saved && (saved.shownAt || Date.now() - saved.at > 30_000)) sessionStorage.removeItem(SAVED);
    return;
  }
  if (!box || !hydrated(box)) { later(100); return; }
  if (!mine || mine.textContent !== saved.text) {
    mine?.remove();
    box.append(h("div", { class: "dh-saved", "data-dh-saved": "", text: saved.text }));
  }
  // Into view and focused when first drawn; for ten seconds the focus is given back while it
  // is on nothing else (the page may still be drawing under it).
  const now = Date.now();
  const idle = !document.activeElement || document.activeElement === document.body;
  if (!saved.shownAt) {
    box.scrollIntoView({ block: "start" });
    box.focus({ preventScroll: true });
    saved.shownAt = now;
    try { sessionStorage.setItem(SAVED, JSON.stringify(saved)); } catch { /* disabled */ }
  } else if (idle && now - saved.shownAt < 10_000) {
    box.focus({ preventScroll: true });
  }
  if (now - saved.shownAt < 10_000) later(200);
}

/** One pending redraw of the confirmation at a time. */
function later(ms) {
  if (st.savedTimer) return;
  st.savedTimer = setTimeout(() => { st.savedTimer = null; showSaved(); }, ms);
}

/** Navigate: inside the app (React's router) when online, a plain load from the cache offline. */
function go(target) {
  const link = [...document.querySelectorAll("a[href]")].find((a) => a.getAttribute("href") === target && !a.closest("#dh-device"));
  if (link && st.conn.state === "online") link.click();
  else location.assign(target);
}

function showQuestion(item, form) {
  const r = item.view.result;
  const box = h("div", { class: "dhd-screen", id: "dh-question", role: "dialog", "aria-modal": "true" }, [
    h("div", { class: "dhd-top" }, [h("h1", { text: t("device.question.title") })]),
    h("div", { class: "dhd-body" }, [
      h("p", { text: r.message }),
      ...r.candidates.map((c) => h("div", { class: "dhd-card" }, [
        h("strong", { text: c.full_name }),
        h("div", { class: "dhd-muted", text: [c.birth_year, c.commune_name].filter(Boolean).join(" · ") }),
        h("div", { class: "dhd-row" }, [h("button", { class: "dhd-btn", type: "button", "data-same-as": String(c.id), text: t("device.question.same"),
          onclick: () => answer(item, { same_as: c.id }, form) })]),
      ])),
      r.hidden_count ? h("p", { class: "dhd-muted", text: t("device.question.hidden", { count: r.hidden_count }) }) : null,
      h("div", { class: "dhd-row" }, [
        h("button", { class: "dhd-btn dhd-soft", type: "button", id: "dh-register-new", text: t("device.question.new"), onclick: () => answer(item, { new: true }, form) }),
      ]),
    ]),
  ]);
  root().append(box);
}

async function answer(item, reply, form) {
  document.getElementById("dh-question")?.remove();
  await st.outbox.resend(item.key, { answer: reply });
  await syncNow();
  const fresh = await st.outbox.get(item.key);
  await refreshTemp();
  if (fresh.status === "question") return showQuestion(fresh, form);
  if (form) finish(form, "client", fresh, null, true);
  render();
}

// ---- sign-in, sign-out, expiry, lock -------------------------------------------------------------------

function onSignInSubmit(event) {
  const form = event.target;
  const fields = signInFields(form);
  if (!fields || form.dataset.outbox || form.dataset.dhDerived || !st.db) return;
  // The sign-in form is a plain HTML post: the page is left at once. So the key that will wrap
  // the device key is derived from the password first (PBKDF2, a second or so) and kept,
  // non-extractable, in IndexedDB until the device key arrives on the next page (connect());
  // the password itself is never stored. Then the form goes, whatever happened here.
  event.preventDefault();
  form.dataset.dhDerived = "1";
  const button = form.querySelector("[type=submit]");
  if (button) button.disabled = true;
  const go = () => { if (button) button.disabled = false; HTMLFormElement.prototype.submit.call(form); };
  const salt = randomBytes(16);
  const derived = Promise.all([deriveWrappingKey(fields.password.value, salt), loginHash(fields.login.value)]).then(([kek, hash]) =>
    st.db.put("meta", { id: "pending_wrap", kek, salt: b64(salt), login_hash: hash, at: Date.now() }));
  Promise.race([derived, sleep(8000)]).catch(() => {}).then(go);
}

/** The wrapping key derived at the last sign-in, if it was left there (see onSignInSubmit). */
async function pendingWrap() {
  const row = await st.db.get("meta", "pending_wrap");
  await st.db.delete("meta", "pending_wrap");
  return row && Date.now() - row.at < 10 * 60_000 ? row : null;
}

function onClick(event) {
  const out = event.target.closest?.("#sign-out");
  if (!out || st.signingOut || !st.user) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  signOutDialog(out);
}

async function signOutDialog(button) {
  const counts = await st.outbox.counts();
  const unsent = counts.waiting + counts.kept + counts.question;
  const done = async (wipe) => {
    document.getElementById("dh-signout")?.remove();
    if (wipe) await wipeUser(st.db, st.user.id);
    st.signingOut = true;
    forget();
    cover(true);
    const local = async () => {
      // Offline: the device forgets the session now; the server (which alone can remove the
      // HttpOnly session cookie) is told at the first page that reaches it (finishSignOut).
      await st.db.put("meta", { id: "sign_out_pending", value: true });
      document.cookie = "dh_signed_in=; Max-Age=0; path=/; SameSite=Strict";
      wipeBrowser();
      location.replace("/");
    };
    if (st.conn.state !== "offline" && button && button.isConnected) {
      button.click(); // the server ends the session, then calls dhWipeDevice and leaves
      setTimeout(() => { if (path() !== "/") local(); }, 8000); // no answer: leave anyway
    } else {
      local();
    }
  };
  root().append(h("div", { class: "dhd-screen", id: "dh-signout", role: "dialog", "aria-modal": "true" }, [
    h("div", { class: "dhd-top" }, [h("h1", { text: t("device.signout.title") })]),
    h("div", { class: "dhd-body" }, [
      h("p", { text: unsent ? t("device.signout.unsent", { count: unsent }) : t("device.signout.body") }),
      h("div", { class: "dhd-row" }, [h("button", { class: "dhd-btn", type: "button", id: "dh-signout-keep", text: t("device.signout.keep"), onclick: () => done(false) })]),
      h("div", { class: "dhd-row" }, [h("button", { class: "dhd-btn dhd-danger", type: "button", id: "dh-signout-wipe",
        text: unsent ? t("device.signout.wipe_unsent", { count: unsent }) : t("device.signout.wipe"), onclick: () => done(true) })]),
      h("div", { class: "dhd-row" }, [h("button", { class: "dhd-btn dhd-soft", type: "button", id: "dh-signout-cancel", text: t("device.cancel"),
        onclick: () => document.getElementById("dh-signout")?.remove() })]),
    ]),
  ]));
}

/** Everything in the browser but the sealed device data and the shell: session storage,
 * local storage (but the language), other databases, non-shell caches. */
function wipeBrowser() {
  try { sessionStorage.clear(); } catch { /* disabled */ }
  try {
    const keep = localStorage.getItem("dh_lang");
    localStorage.clear();
    if (keep) localStorage.setItem("dh_lang", keep);
  } catch { /* disabled */ }
  indexedDB.databases?.().then((dbs) => dbs.forEach((d) => { if (d.name && d.name !== "dh-device") indexedDB.deleteDatabase(d.name); }));
  caches?.keys().then((keys) => keys.forEach((k) => { if (!k.startsWith("dh-shell-")) caches.delete(k); }));
}

/** Called by the server at sign-out and session expiry (app/state/session.py). */
window.dhWipeDevice = function dhWipeDevice() {
  st.db?.delete("meta", "pending_wrap").catch(() => {});
  forget();
  cover(true);
  wipeBrowser();
  // The server's redirect to the sign-in page follows; uncover once it is there.
  setTimeout(() => cover(false), 1500);
};

/** Offline idle: forget the key; the password or PIN opens the device again. */
function lock() {
  forget();
  cover(true);
  location.replace("/today");
}

function cover(on) {
  if (on) document.documentElement.setAttribute("data-dh-cover", "");
  else document.documentElement.removeAttribute("data-dh-cover");
}

async function tryUnlock(form) {
  const login = form.querySelector("[name=dh-login]").value;
  const secret = form.querySelector("[name=dh-secret]").value;
  const button = form.querySelector("button");
  button.disabled = true;
  st.lockMessage = t("device.lock.opening");
  render();
  performance.mark("dh-unlock-start");
  const out = await st.vaults.unlock({ login, secret, wipeUser: (id) => wipeUser(st.db, id) });
  performance.measure("dh-unlock-derive", "dh-unlock-start"); // read by bench/device.py
  button.disabled = false;
  if (out.status === "ok") {
    const row = await st.db.get("snapshots", out.userId);
    const snap = row ? await unseal(out.key, "snapshot", row) : null;
    st.lockMessage = "";
    await adopt({ user: snap ? snap.user : { id: out.userId, full_name: "" }, key: out.key, keyId: out.keyId });
    await refreshTemp();
    st.lastInput = Date.now();
    if (path() === "/") location.replace("/today");
    render();
    return;
  }
  st.lockMessage = out.status === "wrong" ? t("device.lock.wrong", { left: out.left })
    : out.status === "wiped" ? t("device.lock.wiped") : t("device.lock.unknown");
  render();
}

async function setPin(form) {
  const pin = form.querySelector("[name=dh-pin]").value;
  const again = form.querySelector("[name=dh-pin2]").value;
  const err = form.querySelector(".dhd-err");
  if (!PIN_PATTERN.test(pin)) { err.textContent = t("device.pin.format"); return; }
  if (pin !== again) { err.textContent = t("device.pin.mismatch"); return; }
  form.querySelector("button").disabled = true;
  if (!(await st.vaults.get(st.user.id))) {
    // No password was captured on this device: the PIN alone opens it offline.
    await st.vaults.keep({ userId: st.user.id, login: st.loginHint || "", keyId: st.keyId, deviceKey: st.key, password: uuid4() });
  }
  await st.vaults.setPin(st.user.id, st.key, pin);
  st.needPin = false;
  st.pinForm = false;
  notice(t("device.pin.done"));
  render();
}

// ---- drawing ------------------------------------------------------------------------------------------

let renders = 0;
async function render() {
  if (!document.body) return;
  const mine = (renders += 1);
  const mount = root();
  const offline = st.conn.state === "offline";
  document.documentElement.setAttribute("data-dh-link", st.conn.state);
  const screen = await chooseScreen(offline);
  if (mine !== renders) return; // a later render has drawn the screen
  const current = mount.querySelector(".dhd-screen:not(#dh-signout):not(#dh-question)");
  // Unchanged: keep the drawn one (a button being tapped, a search being typed stay put).
  const same = current && screen && current.dataset.view === screen.dataset.view && current.id === screen.id
    && (current.outerHTML === screen.outerHTML
      || (current.contains(document.activeElement) && /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)));
  if (!same) {
    // The same screen drawn again (a message changed): what was typed stays typed.
    if (current && screen && current.id === screen.id) {
      for (const input of current.querySelectorAll("input[name]")) {
        const twin = screen.querySelector(`input[name="${input.name}"]`);
        if (twin && input.type !== "checkbox") twin.value = input.value;
      }
    }
    if (current) current.remove();
    if (screen) mount.prepend(screen);
  } else if (current.outerHTML !== screen.outerHTML) {
    const strip = current.querySelector("#dh-strip");
    const fresh = screen.querySelector("#dh-strip");
    if (strip && fresh && strip.outerHTML !== fresh.outerHTML) strip.replaceWith(fresh);
  }
  renderStrip(offline);
  fillOfflineForm();
}

async function chooseScreen(offline) {
  const p = path();
  const volunteerPage = p === "/" || p === "/today" || p.startsWith("/clients") || p === "/outreach" || p === "/group-activity";
  if (!st.user) {
    if (!offline || !volunteerPage || !st.db) return null;
    const any = (await st.db.count("vaults")) > 0;
    return any ? lockScreen() : null;
  }
  if (st.pinForm) return pinScreen();
  if (st.panel) return panelScreen();
  if (!offline) return null;
  if (p === "/today" || p === "/") return frame("device.today.title", "/today", todayView());
  if (p === "/clients") return frame("device.clients.title", "/clients", clientsView());
  if (/^\/clients\/[^/]+$/.test(p) && p !== "/clients/new") return frame("device.client.title", "/clients", clientView(routeClient()));
  return null;
}

function frame(titleKey, active, body) {
  const nav = [["/today", "device.nav.today"], ["/clients", "device.nav.clients"], ["/clients/new", "device.nav.register"], ["/outreach", "device.nav.outreach"]];
  return h("div", { class: "dhd-screen", id: "dh-offline-view", "data-view": active }, [
    h("div", { class: "dhd-top" }, [h("h1", { text: t(titleKey) }),
      h("button", { class: "dhd-btn dhd-soft", type: "button", id: "dh-sign-out", text: t("device.signout.title"), onclick: () => signOutDialog(null) })]),
    stripElement(true),
    h("div", { class: "dhd-body" }, [body]),
    h("nav", { class: "dhd-nav", "aria-label": t("device.nav.label") }, nav.map(([href, key]) =>
      h("a", { href, "aria-current": href === active ? "page" : null, text: t(key), onclick: (e) => navigate(e, href) }))),
  ]);
}

function navigate(event, href) {
  if (/^\/(today|clients(\/[^/]+)?)$/.test(href) && href !== "/clients/new") {
    event.preventDefault();
    history.pushState({}, "", href);
    render();
    window.scrollTo(0, 0);
  }
}

function dueText(d) {
  return t(`due.${d.kind}`) + (d.due_on ? ` · ${showDate(d.due_on)}` : "") + (d.days_overdue > 0 ? ` · ${t("device.overdue", { days: d.days_overdue })}` : "");
}

function clientLine(c, extra) {
  return h("a", { class: "dhd-card", href: `/clients/${encodeURIComponent(c.id)}`, "data-client": String(c.id), onclick: (e) => navigate(e, `/clients/${encodeURIComponent(c.id)}`) }, [
    h("strong", { text: c.full_name }),
    c.temp ? h("span", { class: "dhd-badge dhd-waiting", text: t("device.temp_client") }) : null,
    h("div", { class: "dhd-muted", text: [c.birth_year, c.commune_name].filter(Boolean).join(" · ") }),
    extra ? h("div", { text: extra }) : null,
  ]);
}

function todayView() {
  const rows = (st.snap?.today_list || []).map((r) => ({ r, c: clientOf(r.client_id) })).filter((x) => x.c);
  return h("div", {}, [
    h("p", { class: "dhd-muted", text: st.snap ? t("device.today.as_of", { date: showDate(st.snap.today) }) : t("device.no_snapshot") }),
    ...(rows.length ? rows.map(({ r, c }) => clientLine(c, dueText(r))) : [h("p", { text: t("device.today.empty") })]),
  ]);
}

function clientsView() {
  const all = [...(st.snap?.clients || []), ...tempClients()];
  const list = h("div", { id: "dh-client-list" });
  const draw = (q) => {
    list.replaceChildren(...all.filter((c) => matches(`${c.full_name} ${c.commune_name || ""}`, q))
      .sort((a, b) => fold(a.full_name).localeCompare(fold(b.full_name))).map((c) => clientLine(c)));
    if (!list.children.length) list.append(h("p", { text: t("device.clients.none") }));
  };
  draw("");
  const input = h("input", { type: "search", id: "dh-search", "aria-label": t("device.clients.search"), placeholder: t("device.clients.search"), oninput: (e) => draw(e.target.value) });
  return h("div", {}, [h("label", {}, [t("device.clients.search"), input]), list]);
}

function clientView(ref) {
  const c = clientOf(ref);
  if (!c) return h("p", { role: "alert", text: t("device.client.unknown") });
  const facts = [
    ["device.client.birth_year", c.birth_year], ["device.client.commune", c.commune_name],
    ["device.client.address", c.address], ["device.client.phone", c.phone],
    ["device.client.episode", c.open_episode ? `${showDate(c.open_episode.start_date)} → ${showDate(c.open_episode.expected_end)}` : ""],
  ].filter(([, v]) => v);
  const mine = (st.items || []).filter((i) => i.view && i.view.payload && String(i.view.payload.client_id) === String(c.id));
  const actions = Object.entries(CLIENT_FORMS).map(([slug, kind]) =>
    h("a", { class: "dhd-btn", href: `/clients/${encodeURIComponent(c.id)}/${slug}`, id: `dh-new-${kind}`, style: "text-decoration:none;display:inline-flex;align-items:center", text: t(`device.form.${kind}`) }));
  return h("div", { id: "dh-client", "data-client": String(c.id) }, [
    h("h2", { id: "dh-client-name", text: c.full_name }),
    c.temp ? h("p", { class: "dhd-muted", text: t("device.temp_client_note") }) : null,
    h("dl", {}, facts.flatMap(([k, v]) => [h("dt", { text: t(k) }), h("dd", { text: String(v) })])),
    h("div", { class: "dhd-row" }, actions),
    c.due?.length ? h("h2", { text: t("device.client.due") }) : null,
    ...(c.due || []).map((d) => h("div", { class: "dhd-card", text: dueText(d) })),
    c.open_referrals?.length ? h("h2", { text: t("device.client.referrals") }) : null,
    ...(c.open_referrals || []).map((r) => h("div", { class: "dhd-card", text: [t(`rec.service.${r.service}`), r.facility_name, showDate(r.referred_on)].filter(Boolean).join(" · ") })),
    c.recent?.length ? h("h2", { text: t("device.client.recent") }) : null,
    ...(c.recent || []).map((r) => h("div", { class: "dhd-card", text: `${t(`device.kind.${r.kind}`)} · ${showDate(r.on)}` })),
    mine.length ? h("h2", { text: t("device.client.on_device") }) : null,
    mine.length ? h("ul", { style: "list-style:none;padding:0;margin:0" }, mine.map(itemCard)) : null,
  ]);
}

function lockScreen() {
  const form = h("form", { id: "dh-unlock", novalidate: true, onsubmit: (e) => { e.preventDefault(); tryUnlock(e.target); } }, [
    h("p", { text: t("device.lock.body") }),
    h("label", {}, [t("device.lock.login"), h("input", { name: "dh-login", autocomplete: "username", autocapitalize: "none", required: true })]),
    h("label", {}, [t("device.lock.secret"), h("input", { name: "dh-secret", type: "password", autocomplete: "current-password", required: true })]),
    st.lockMessage ? h("p", { class: "dhd-err", role: "alert", id: "dh-unlock-message", text: st.lockMessage }) : null,
    h("button", { class: "dhd-btn", type: "submit", id: "dh-unlock-button", style: "width:100%", text: t("device.lock.open") }),
  ]);
  return h("div", { class: "dhd-screen", id: "dh-lock" }, [
    h("div", { class: "dhd-top" }, [h("h1", { text: t("device.lock.title") })]),
    h("div", { class: "dhd-body" }, [h("p", { class: "dhd-muted", text: t("device.lock.offline") }), form]),
  ]);
}

function pinScreen() {
  const form = h("form", { id: "dh-pin", novalidate: true, onsubmit: (e) => { e.preventDefault(); setPin(e.target); } }, [
    h("p", { text: t("device.pin.body") }),
    h("label", {}, [t("device.pin.label"), h("input", { name: "dh-pin", type: "password", inputmode: "numeric", autocomplete: "new-password", minlength: "6" })]),
    h("label", {}, [t("device.pin.again"), h("input", { name: "dh-pin2", type: "password", inputmode: "numeric", autocomplete: "new-password" })]),
    h("p", { class: "dhd-err", role: "alert" }),
    h("div", { class: "dhd-row" }, [
      h("button", { class: "dhd-btn", type: "submit", text: t("device.pin.save") }),
      h("button", { class: "dhd-btn dhd-soft", type: "button", text: t("device.cancel"), onclick: () => { st.pinForm = false; render(); } }),
    ]),
  ]);
  return h("div", { class: "dhd-screen", id: "dh-pin-screen" }, [h("div", { class: "dhd-top" }, [h("h1", { text: t("device.pin.title") })]), h("div", { class: "dhd-body" }, [form])]);
}

function statusBadge(item) {
  return h("span", { class: `dhd-badge dhd-${item.status}`, "data-status": item.status, text: t(`device.status.${item.status}`) });
}

function itemCard(item) {
  const v = item.view || {};
  const lines = [
    h("div", {}, [statusBadge(item), h("strong", { text: t(`device.kind.${item.kind}`) }), v.label?.name ? ` · ${v.label.name}` : "", v.label?.date ? ` · ${showDate(v.label.date)}` : ""]),
    h("div", { class: "dhd-muted", "data-saved": "", text: t("device.saved_on", { at: stamp(item.saved_at) }) }),
    item.sent_at ? h("div", { class: "dhd-muted", "data-sent": "", text: t("device.sent_on", { at: stamp(Date.parse(item.sent_at)) }) }) : null,
  ];
  if (item.status === "dismissed") {
    const why = v.result?.decision === "withdrawn" ? t("device.withdrawn") : t("device.dismissed_by", { reason: v.result?.decision_reason || "" });
    lines.push(h("p", { class: "dhd-muted", "data-dismissed": "", text: why }));
  }
  if ((item.status === "kept" || item.status === "question") && v.result) {
    lines.push(h("p", { class: "dhd-err", text: v.result.message || v.result.reason }));
    for (const [field, msg] of Object.entries(v.result.fields || {})) lines.push(h("p", { class: "dhd-err", text: `${field}: ${msg}` }));
    lines.push(recordDetails(item));
    const row = [];
    if (item.status === "question") row.push(h("button", { class: "dhd-btn", type: "button", text: t("device.question.answer"), onclick: () => showQuestion(item, null) }));
    if (v.result.confirmable) row.push(h("button", { class: "dhd-btn", type: "button", text: t("device.send_anyway"), onclick: async () => { await st.outbox.resend(item.key, { confirm: true }); syncNow(); render(); } }));
    if (item.status === "kept") row.push(h("button", { class: "dhd-btn dhd-soft", type: "button", "data-fix": item.key, text: t("device.fix"), onclick: () => openFix(item) }));
    row.push(h("button", { class: "dhd-btn dhd-soft", type: "button", "data-resend": item.key, text: t("device.resend"), onclick: async () => { await st.outbox.resend(item.key); st.failures = 0; await syncNow(); await refreshTemp(); render(); } }));
    if (item.status === "kept") row.push(h("button", { class: "dhd-btn dhd-danger", type: "button", "data-withdraw": item.key, text: t("device.withdraw"), onclick: () => { st.withdrawing = item.key; render(); } }));
    // Several records can be listed: each button says which one it is for.
    const what = [t(`device.kind.${item.kind}`), v.label?.name, v.label?.date ? showDate(v.label.date) : ""].filter(Boolean).join(", ");
    for (const button of row) button.setAttribute("aria-label", `${button.textContent}: ${what}`);
    lines.push(h("div", { class: "dhd-row" }, row));
    if (st.withdrawing === item.key) lines.push(withdrawQuestion(item, what));
  }
  return h("li", { class: "dhd-card", "data-key": item.key, "data-kind": item.kind, "data-status": item.status }, lines);
}

// ---- correcting a refused record, on its own form ----------------------------------------------

const FIX = "dh_fix"; // sessionStorage: { key, route } — the refused record being corrected

function formRoute(kind, payload) {
  const client = payload.client_id === null || payload.client_id === undefined ? null : encodeURIComponent(payload.client_id);
  const own = { visit: "visit", drug_test: "test", referral: "referral", support: "support" }[kind];
  if (own) return client === null ? null : `/clients/${client}/${own}`;
  return { outreach_contact: "/outreach", group_activity: "/group-activity", client: "/clients/new" }[kind] || null;
}

/** "Sửa": the record's own form, filled with what was typed and the server's messages next to
 * their fields; saving it resends the record under the same key (stored once). */
function openFix(item) {
  const route = formRoute(item.kind, item.view.payload || {});
  if (!route) return;
  try { sessionStorage.setItem(FIX, JSON.stringify({ key: item.key, route })); } catch { return; }
  st.panel = false;
  render();
  go(route);
}

async function applyFix(form) {
  let fix = null;
  try { fix = JSON.parse(sessionStorage.getItem(FIX) || "null"); } catch { /* disabled */ }
  if (!fix) return;
  if (fix.route !== path()) {
    if (st.fixedForm) { sessionStorage.removeItem(FIX); st.fixedForm = null; } // left the form
    return;
  }
  if (st.fixedForm === form || !st.outbox) return; // done (React may draw a new form: again)
  st.fixedForm = form;
  // Put the values back only once the page has loaded its state: its load event resets what
  // the values' own handlers set (a minor's birth year draws the representative's fields).
  await drawnHere({ offline: knownOffline });
  if (st.fixedForm !== form || !form.isConnected) {
    if (st.fixedForm === form) st.fixedForm = null; // React drew a new form: it comes again
    return;
  }
  const item = await st.outbox.get(fix.key);
  if (!item || item.status !== "kept" || !item.view?.payload) { sessionStorage.removeItem(FIX); return; }
  const fields = item.view.result?.fields || {};
  const given = Object.entries(item.view.payload).filter(([name, v]) => name !== "client_id" && v !== null
    && v !== undefined && v !== "" && v !== false && !(Array.isArray(v) && !v.length)).map(([name]) => name);
  await revealFields(form, [...given, ...Object.keys(fields)]);
  prefill(form, item.view.payload);
  sessionStorage.setItem(draftSlot(form), item.key);
  showFieldErrors(form, fields);
  notice(item.view.result?.message || t("device.kept"), "error", 8000);
}

/** Put a payload back into its form: by field name, the ticked boxes of its lists and the
 * consents given. A value is set as typing would set it, so the page's own handlers run (the
 * birth year of a minor draws the legal representative's fields); a field the page draws only
 * after that (its answer comes from the server) is filled when it appears. */
function prefill(form, payload) {
  const boxes = { content: "content", risk_flags: "risk", substances: "substance" };
  const tick = (name, on = true) => {
    const box = form.querySelector(`input[name="${CSS.escape(name)}"]`);
    if (box && box.checked !== on) box.click();
    return !!box;
  };
  const later = new Map();
  for (const [name, value] of Object.entries(payload)) {
    if (value === null || value === undefined || name === "client_id") continue;
    if (name === "client_ids" && Array.isArray(value)) { for (const id of value) tick(`client_${id}`); continue; }
    if (name === "consents" && Array.isArray(value)) { for (const c of value) if (c && c.purpose) tick(`consent_${c.purpose}`); continue; }
    if (boxes[name] && typeof value === "string") { for (const v of value.split(",").filter(Boolean)) tick(`${boxes[name]}_${v}`); continue; }
    const fields = form.querySelectorAll(`[name="${CSS.escape(name)}"]`);
    if (!fields.length && value !== "" && value !== false) later.set(name, value);
    for (const el of fields) putValue(el, value);
  }
  if (later.size) fillWhenDrawn(form, later);
}

function putValue(el, value) {
  if (el.type === "radio") { if (el.value === String(value) && !el.checked) el.click(); return; }
  if (el.type === "checkbox") { if (el.checked !== !!value) el.click(); return; }
  if (el.value === String(value)) return;
  // React keeps its own copy of an input's value: the element's native setter, then an input
  // event, is what typing does, so the page's change handlers see it.
  const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype
    : el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, "value").set.call(el, String(value));
  el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? "change" : "input", { bubbles: true }));
}

/** Fill `values` (name → value) into fields the page has not drawn yet, as they appear (for up
 * to 10 s). */
function fillWhenDrawn(form, values) {
  const fill = () => {
    for (const [name, value] of [...values]) {
      const fields = form.querySelectorAll(`[name="${CSS.escape(name)}"]`);
      if (!fields.length) continue;
      for (const el of fields) putValue(el, value);
      values.delete(name);
    }
    if (!values.size) watcher.disconnect();
  };
  const watcher = new MutationObserver(fill);
  watcher.observe(form, { childList: true, subtree: true });
  setTimeout(() => watcher.disconnect(), 10_000);
}

/** "Give this record up?" under the record, answered in place. */
function withdrawQuestion(item, what) {
  const close = () => { st.withdrawing = null; render(); };
  return h("div", { class: "dhd-card", role: "group", "aria-label": `${t("device.withdraw")}: ${what}` }, [
    h("p", { text: t("device.withdraw_confirm") }),
    h("div", { class: "dhd-row" }, [
      h("button", { class: "dhd-btn dhd-danger", type: "button", id: "dh-withdraw-yes", text: t("device.withdraw_yes"), onclick: async () => {
        try {
          await api("review/withdraw", { method: "POST", body: { key: item.key } });
        } catch {
          notice(t("device.need_signal"), "error");
          return;
        }
        await st.outbox.dismissed(item, "withdrawn");
        await refreshTemp();
        close();
      } }),
      h("button", { class: "dhd-btn dhd-soft", type: "button", text: t("device.cancel"), onclick: close }),
    ]),
  ]);
}

/** The whole record, as typed: a refused record is never a mystery. */
function recordDetails(item) {
  const payload = item.view.payload || {};
  return h("dl", { class: "dh-record" }, Object.entries(payload).filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length))
    .flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: typeof v === "object" ? JSON.stringify(v) : String(v) })]));
}

/** Correct a refused record: its fields as text, saved and resent under the same key. */
function panelScreen() {
  const items = (st.items || []).slice().reverse();
  return h("div", { class: "dhd-screen", id: "dh-records" }, [
    h("div", { class: "dhd-top" }, [h("h1", { text: t("device.records.title") }),
      h("button", { class: "dhd-btn dhd-soft", type: "button", id: "dh-records-close", text: t("device.close"), onclick: () => { st.panel = false; render(); } })]),
    stripElement(false),
    h("div", { class: "dhd-body" }, [items.length ? h("ul", { style: "list-style:none;padding:0;margin:0", id: "dh-record-list" }, items.map(itemCard)) : h("p", { text: t("device.records.none") })]),
  ]);
}

function stripElement(inView) {
  const counts = { waiting: 0, kept: 0, question: 0, sent: 0 };
  for (const i of st.items || []) counts[i.status] = (counts[i.status] || 0) + 1;
  const link = st.conn.state;
  const refused = counts.kept + counts.question;
  const text = h("div", { class: "dhs-text" }, [
    h("div", { class: "dhs-line" }, [
      h("span", { id: "dh-link", class: "dhs-link", "data-link": link, text: t(`device.link.${link}`) }),
      h("span", { id: "dh-waiting", "data-count": String(counts.waiting), text: t("device.waiting", { count: counts.waiting }) }),
      refused ? h("span", { id: "dh-refused", class: "dhs-err", "data-count": String(refused), text: t("device.refused", { count: refused }) }) : null,
    ]),
    h("div", { class: "dhs-line" }, [
      h("span", { id: "dh-last-sync", text: st.lastSyncAt ? t("device.last_sync", { at: stampToday(Date.parse(st.lastSyncAt)) }) : t("device.never_synced") }),
      st.syncing ? h("span", { text: t("device.sending") }) : null,
      st.needSignin ? h("a", { href: "/", text: t("device.need_signin") }) : null,
    ]),
  ]);
  const buttons = [
    // Sends what waits and refreshes the caseload: a volunteer about to lose signal can
    // make sure, whatever the retry timer says.
    h("button", { class: "dhs-btn", type: "button", id: "dh-send-now", disabled: !!st.syncing || !!st.connecting,
      text: t("device.send_now"), onclick: () => { st.failures = 0; st.nextTryAt = 0; if (sessionCookie()) connect(); else syncNow(); } }),
    inView || !st.panel ? h("button", { class: "dhs-btn dhs-soft", type: "button", id: "dh-open-records", text: t("device.records.short"), onclick: async () => { await refreshTemp(); st.panel = true; render(); } }) : null,
    st.needPin && !st.pinForm ? h("button", { class: "dhs-btn dhs-soft", type: "button", id: "dh-set-pin", text: t("device.pin.offer"), onclick: () => { st.pinForm = true; render(); } }) : null,
  ];
  return h("div", { id: "dh-strip", role: "status", "data-link": link }, [text, ...buttons]);
}

function renderStrip(offline) {
  const mount = document.getElementById("dh-offline");
  if (!mount) return;
  const covered = !!document.querySelector("#dh-device .dhd-screen");
  const show = !!st.user && !covered;
  // React owns the mount point: wait until it has hydrated it, then fill it ourselves.
  if (!hydrated(mount)) return;
  mount.hidden = !show;
  stripRoom(mount);
  const fresh = show ? stripElement(false) : null;
  if (fresh && mount.firstChild && mount.firstChild.outerHTML === fresh.outerHTML) return;
  mount.replaceChildren(...(fresh ? [fresh] : []));
}

/** The strip is fixed above the navigation (assets/lists.css): the page's content keeps room
 * for it below its end (the strip's height as the frame's `main`'s bottom margin, below its
 * own padding for the navigation), and a notice is shown above it, following its height as it
 * wraps or hides. A change there moves nothing above it. The height comes from a
 * ResizeObserver, called after the browser's own layout (reading it at each render would force
 * one), and is set on the one element that needs it (a custom property on the page's root
 * would restyle the whole page). */
function stripRoom(mount) {
  if (st.stripWatch?.mount === mount) return;
  st.stripWatch?.observer?.disconnect();
  const observer = window.ResizeObserver ? new ResizeObserver(([entry]) => {
    st.stripHeight = Math.ceil(entry.borderBoxSize?.[0]?.blockSize ?? entry.contentRect.height);
    const main = document.getElementById("main");
    if (main) main.style.marginBottom = st.stripHeight ? `${st.stripHeight}px` : "";
  }) : null;
  observer?.observe(mount);
  st.stripWatch = { mount, observer };
}

/** Offline, a form page has no server state: its dates, its client's name and its lists of
 * places come from the device. */
function fillOfflineForm() {
  const form = document.querySelector("form[data-outbox]");
  if (!form || !st.user) return;
  if (!hydrated(form)) {
    // Before React has taken the server's HTML over, any change to it (an option, a name) is a
    // mismatch: React would throw the HTML away and render it again, emptying what was typed.
    st.fillLater ??= setTimeout(() => { st.fillLater = null; fillOfflineForm(); }, 100);
    return;
  }
  const today = vnDate();
  // The server fills a required date with today when the page loads; without it, so do we
  // (the native "required" check would otherwise stop the save silently).
  for (const input of form.querySelectorAll("input[type=date][required]")) {
    if (!input.value && !input.dataset.dhFilled) { input.value = today; input.dataset.dhFilled = "1"; }
  }
  const name = document.getElementById("client-name");
  const client = clientOf(routeClient());
  if (name && !name.textContent && client && st.conn.state === "offline") name.textContent = client.full_name;
  // A list the server has not filled (at most its placeholder) gets the device's, once.
  const fill = (select, items) => {
    if (st.conn.state !== "offline" || select.dataset.dhFilled || select.options.length > 1 || !items?.length) return;
    for (const item of items) select.append(h("option", { value: String(item.id), text: item.name }));
    select.dataset.dhFilled = "1";
  };
  for (const select of form.querySelectorAll("select[name=place_id], select[name=commune_id]")) fill(select, st.snap?.places);
  for (const select of form.querySelectorAll("select[name=facility_id], select[name=organiser_id]")) fill(select, st.snap?.facilities);
  if (form.dataset.outbox === "group_activity") fillGroupClients(form);
  applyFix(form).catch((err) => console.warn("fix", err));
  // For the tests: React's, and filled for this state of the link (offline: from the device).
  form.dataset.dhReady = st.conn.state;
}

/** Offline, the group activity's "who came" list is the volunteer's own clients, from the
 * device, and its filter works on the device (accents and case ignored). */
function fillGroupClients(form) {
  const list = form.querySelector("#client-list");
  if (!list || st.conn.state !== "offline" || list.dataset.dhFilled || list.querySelector(".client-pick")) return;
  const clients = [...(st.snap?.clients || []), ...tempClients()]
    .sort((a, b) => a.full_name.localeCompare(b.full_name, "vi"));
  if (!clients.length) return;
  for (const c of clients) {
    const boxId = `client_${c.id}`;
    list.append(h("label", { class: "client-pick", for: boxId, "data-shown": "1" }, [
      h("input", { type: "checkbox", name: boxId, id: boxId, style: "width:22px;height:22px;flex-shrink:0" }),
      h("span", { text: c.full_name }),
      h("span", { class: "dhd-muted", text: String(c.birth_year || "") }),
    ]));
  }
  // The server's "no clients" line is for an empty list: this one is not.
  for (const p of list.querySelectorAll(":scope > p")) p.hidden = true;
  list.dataset.dhFilled = "1";
  const filter = form.closest("main, body").querySelector("input[type=search][form=client-filter-only]");
  filter?.addEventListener("input", () => {
    if (st.conn.state !== "offline") return;
    for (const label of list.querySelectorAll(".client-pick")) {
      label.dataset.shown = matches(label.textContent, filter.value) ? "1" : "0";
    }
  });
}

// ---- start ----------------------------------------------------------------------------------------------

/** A form sent before React has taken the page over would go as the browser's own GET: the
 * page reloads with what was typed in its address (and in the history), and nothing is saved.
 * The tap is kept instead and sent as soon as the page is ready. Forms that are meant for the
 * browser (an `action`, like sign-in) and the device's own (`data-outbox`) are left alone. */
const heldForms = new WeakSet();
function onEarlySubmit(event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.hasAttribute("action") || form.dataset.outbox
    || form.closest("#dh-device") || hydrated(form)) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  if (heldForms.has(form)) return; // tapped again while waiting: sent once
  heldForms.add(form);
  const submitter = event.submitter && event.submitter.form === form ? event.submitter : null;
  const started = Date.now();
  const later = () => {
    if (!form.isConnected || Date.now() - started > 60_000) { heldForms.delete(form); return; }
    if (hydrated(form)) requestAnimationFrame(() => { heldForms.delete(form); form.requestSubmit(submitter); });
    else setTimeout(later, 50);
  };
  later();
}

async function start() {
  window.addEventListener("submit", onEarlySubmit, true);
  window.addEventListener("submit", onSignInSubmit, true);
  window.addEventListener("submit", (e) => { onSubmit(e).catch((err) => { console.error(err); notice(t("device.error"), "error"); }); }, true);
  window.addEventListener("click", onClick, true);
  for (const ev of ["pointerdown", "keydown"]) window.addEventListener(ev, () => { st.lastInput = Date.now(); }, { passive: true });
  window.addEventListener("popstate", () => { render(); showSaved(); });
  window.addEventListener("online", () => { st.nextTryAt = 0; });
  // Not on the sign-in page: there, only fresh evidence may cover the form with the lock.
  const last = recentLink();
  if (last && path() !== "/") st.conn.set(last);
  st.conn.onChange((state) => {
    try { sessionStorage.setItem(LINK, JSON.stringify({ state, at: Date.now() })); } catch { /* disabled */ }
    render();
  });
  st.db = await openDevice();
  st.vaults = new Vaults(st.db);
  st.deviceId = await deviceId(st.db, uuid4);
  indexedDB.databases?.().then((dbs) => { if (dbs.some((d) => d.name === "dh-offline")) indexedDB.deleteDatabase("dh-offline"); });
  try {
    const flash = JSON.parse(sessionStorage.getItem("dh_flash") || "null");
    sessionStorage.removeItem("dh_flash"); // shown on the next page only
    if (flash && flash.until > Date.now()) {
      notice(flash.text, flash.tone, Math.max(2000, flash.until - Date.now()));
      sessionStorage.removeItem("dh_flash");
    }
  } catch { /* disabled */ }
  st.pendingSignOut = !!(await st.db.get("meta", "sign_out_pending"));
  if (st.pendingSignOut && path() !== "/") cover(true); // what the server still shows for it
  st.ready = (async () => {
    await restoreSlot();
    await refreshTemp();
  })();
  await st.ready;
  window.__dhBoot?.started(); // what boot.js held is handled here from now on
  render();
  shownFirst().then(firstContact);
  setInterval(tick, 1000);
  setInterval(() => { refreshTemp().then(render); }, 5000);
  new MutationObserver(() => { if (!st.filling) { st.filling = true; requestAnimationFrame(() => { st.filling = false; fillOfflineForm(); renderStripIfEmpty(); showSaved(); }); } })
    .observe(document.body, { childList: true, subtree: true });
}

/** The page has shown what it was opened for (page.js pageDrawn), or the device knows it has
 * no signal. At once when the device's first lines (boot.js) waited for that before loading
 * this code. */
function shownFirst() {
  if (window.__dhBoot?.waited) return Promise.resolve();
  return pageDrawn({ offline: knownOffline });
}

function knownOffline() {
  return navigator.onLine === false || st.conn.state === "offline";
}

/** The deployment's build id: the name of its route manifest, which the page's head links
 * (`modulepreload`) as it comes from the server; React takes the head over once the page is
 * drawn and a page opened at a client's address (the SPA shell) then no longer names it, so it
 * is read when this script starts, or from the files the page loaded. "" when none is found. */
function buildOfPage() {
  const link = document.querySelector('link[rel="modulepreload"][href*="/assets/manifest-"]');
  const loaded = () => performance.getEntriesByType("resource").map((e) => e.name).find((n) => /\/assets\/manifest-/.test(n));
  return /manifest-([A-Za-z0-9_-]+)\.js/.exec((link && link.getAttribute("href")) || loaded() || "")?.[1] || "";
}
const BUILD = buildOfPage();

/** The device's first requests of a page: the service worker's registration (and with it its
 * precache), then the key and caseload of the session (or, with none, whether anyone answers).
 * Started once the page has drawn its data (pageDrawn), or at once by a save: on a phone with
 * a slow link they would otherwise share it with the page's own code and data, and hold back
 * the screen the volunteer opened (issue 20). What the device holds already (the unlocked key,
 * the snapshot, the offline screens) is drawn before, without the network. */
function firstContact() {
  if (st.contacted) return st.contact;
  st.contacted = true;
  const build = BUILD || buildOfPage();
  // Without a build id (a development server) a worker is registered only where none controls
  // the page: a "dev" worker would replace the deployment's, and its cache with it.
  if ("serviceWorker" in navigator && (build || !navigator.serviceWorker.controller)) {
    new Workbox(`/sw.js?build=${encodeURIComponent(build || "dev")}`, { scope: "/" }).register().catch((err) => console.warn("service worker", err));
  }
  st.cookie = sessionCookie();
  // What a save made before the page was drawn waits for: connect() sets st.connecting only
  // after its first await, too late for a caller that looks at once.
  st.contact = st.cookie ? connect() : probe().then(render);
  return st.contact;
}

function renderStripIfEmpty() {
  const mount = document.getElementById("dh-offline");
  if (mount && !mount.firstChild && st.user) renderStrip(st.conn.state === "offline");
}

/* For the benchmarks and tests (bench/device.py): the same outbox a form saves into. Any script
 * of this origin could do as much; nothing here opens anything the page has not unlocked. */
window.dhOutbox = {
  save: (kind, payload) => st.outbox.save({ key: uuid4(), kind, payload, label: {} }),
  counts: () => (st.outbox ? st.outbox.counts() : null),
  sync: () => syncNow(),
};

export const testing = { st, deleteDevice };

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => start());
else start();
