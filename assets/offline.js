/* Đồng Hành offline queue: records made without a connection, kept encrypted on the device
 * and sent exactly once when the connection returns.
 *
 * - The device key comes from GET /api/offline/bootstrap (the signed-in session's key). It is
 *   kept in sessionStorage only, never in IndexedDB: a tab closed while offline cannot open
 *   the queue until it is online and signed in again (the waiting records are still sent).
 * - IndexedDB "dh-offline" holds, per record, only what sending needs in the clear (its
 *   idempotency key, order, kind, status, the id of the key that encrypted it) and the rest
 *   AES-GCM encrypted (the record's key is the additional data). The cached Today list is
 *   encrypted the same way.
 * - Records are POSTed in order to /api/offline/sync; the server stores each key once, so a
 *   batch sent twice stores nothing twice. A refused record stays here, shown with the reason,
 *   until the user fixes and resends it or discards it. Nothing is dropped silently.
 * - Session expiry keeps the encrypted waiting records (the key is forgotten); the next
 *   sign-in by the same user gets the lapsed session's key back and sends them. A deliberate
 *   sign-out asks first if records are waiting, then deletes everything.
 */
(function () {
  "use strict";
  if (!window.indexedDB || !window.crypto || !window.crypto.subtle) return;

  var DB_NAME = "dh-offline";
  var KEYS_SLOT = "dh_offline_keys"; // sessionStorage only
  var API = "/api/offline/";
  var TICK_MS = 2000;
  var SYNC_EVERY_MS = 30000;
  var BOOT_EVERY_MS = 10 * 60 * 1000;
  var BATCH = 50;
  var SENT_KEEP_MS = 24 * 3600 * 1000;

  var st = {
    db: null,
    keys: {}, // key_id -> CryptoKey
    current: null, // key_id of the signed-in session's key
    boot: null, // {today, places, today_date}: memory only (encrypted at rest)
    items: [], // {key, seq, kind, status, key_id, iv, ct, view}
    session: null, // the dh_signed_in marker last seen (dh_session itself is HttpOnly)
    mode: "unknown", // "ok" | "signin" (session gone) | "off" (not a volunteer)
    syncing: false,
    booting: null,
    lastSync: 0,
    lastBoot: 0,
    form: null, // {kind, key?}
    notice: "",
    texts: null,
  };

  // ---- small helpers ----------------------------------------------------------------------

  function lang() {
    var raw = "";
    try { raw = window.localStorage.getItem("dh_lang") || ""; } catch (e) { /* disabled */ }
    return raw.replace(/"/g, "") === "en" ? "en" : "vi";
  }

  function text(key, params) {
    if (!st.texts) {
      var el = document.getElementById("dh-offline");
      try { st.texts = el ? JSON.parse(el.getAttribute("data-i18n")) : null; } catch (e) { st.texts = null; }
    }
    var out = (st.texts && st.texts[lang()] && st.texts[lang()][key]) || key;
    if (params) Object.keys(params).forEach(function (k) { out = out.split("{" + k + "}").join(String(params[k])); });
    return out;
  }

  // The session cookie is HttpOnly: scripts see only its powerless per-session marker.
  function sessionCookie() {
    var m = document.cookie.match(/(?:^|;\s*)dh_signed_in=([^;]*)/);
    return m ? m[1] : "";
  }

  function localDate(d) {
    d = d || new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  function showDate(iso) {
    var p = (iso || "").split("-");
    return p.length === 3 ? p[2] + "/" + p[1] + "/" + p[0] : "";
  }

  function uuid4() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  var seqCounter = 0;
  function nextSeq() { seqCounter = (seqCounter + 1) % 1000; return Date.now() * 1000 + seqCounter; }

  function b64(buf) {
    var s = "", bytes = new Uint8Array(buf);
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s);
  }
  function unb64(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function hexBytes(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }
  var utf8 = new TextEncoder();

  // ---- keys (sessionStorage) ------------------------------------------------------------

  function readKeySlot() {
    try { return JSON.parse(window.sessionStorage.getItem(KEYS_SLOT) || "null"); } catch (e) { return null; }
  }
  function writeKeySlot(current, map) {
    try { window.sessionStorage.setItem(KEYS_SLOT, JSON.stringify({ current: current, keys: map })); } catch (e) { /* private mode */ }
  }
  function forgetKeys() {
    try { window.sessionStorage.removeItem(KEYS_SLOT); } catch (e) { /* disabled */ }
    st.keys = {}; st.current = null; st.boot = null;
  }
  function importKeys(map) {
    return Promise.all(Object.keys(map).map(function (id) {
      return crypto.subtle.importKey("raw", hexBytes(map[id]), { name: "AES-GCM" }, false, ["encrypt", "decrypt"])
        .then(function (k) { st.keys[id] = k; });
    }));
  }

  // ---- IndexedDB ------------------------------------------------------------------------

  function openDb() {
    if (st.db) return Promise.resolve(st.db);
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains("queue")) db.createObjectStore("queue", { keyPath: "key" });
        if (!db.objectStoreNames.contains("cache")) db.createObjectStore("cache", { keyPath: "id" });
      };
      req.onsuccess = function () {
        st.db = req.result;
        // A wipe (sign-out) deletes the database: let it through at once.
        st.db.onversionchange = function () { closeDb(); };
        resolve(st.db);
      };
      req.onerror = function () { reject(req.error); };
    });
  }
  function closeDb() { if (st.db) { st.db.close(); st.db = null; } }

  function dbExists() {
    if (st.db) return Promise.resolve(true);
    if (!indexedDB.databases) return Promise.resolve(true);
    return indexedDB.databases().then(function (dbs) {
      return dbs.some(function (d) { return d.name === DB_NAME; });
    }, function () { return true; });
  }

  function run(storeName, mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var result = fn(tx.objectStore(storeName));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  // ---- encryption -----------------------------------------------------------------------

  function seal(recordKey, obj) {
    var key = st.keys[st.current];
    if (!key) return Promise.reject(new Error("no device key"));
    var iv = crypto.getRandomValues(new Uint8Array(12));
    return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: utf8.encode(recordKey) },
      key, utf8.encode(JSON.stringify(obj)))
      .then(function (ct) { return { key_id: st.current, iv: b64(iv), ct: b64(ct) }; });
  }

  function unseal(recordKey, row) {
    var key = st.keys[row.key_id];
    if (!key) return Promise.resolve(null);
    return crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(row.iv), additionalData: utf8.encode(recordKey) },
      key, unb64(row.ct))
      .then(function (pt) { return JSON.parse(new TextDecoder().decode(pt)); }, function () { return null; });
  }

  function saveItem(item) {
    return seal(item.key, item.view).then(function (box) {
      item.key_id = box.key_id; item.iv = box.iv; item.ct = box.ct;
      var row = { key: item.key, seq: item.seq, kind: item.kind, status: item.status,
        key_id: box.key_id, iv: box.iv, ct: box.ct };
      return run("queue", "readwrite", function (s) { s.put(row); });
    });
  }

  function loadItems() {
    return run("queue", "readonly", function (s) { return s.getAll(); }).then(function (rows) {
      rows = (rows || []).sort(function (a, b) { return a.seq - b.seq; });
      return Promise.all(rows.map(function (row) {
        return unseal(row.key, row).then(function (view) {
          return { key: row.key, seq: row.seq, kind: row.kind, status: row.status,
            key_id: row.key_id, iv: row.iv, ct: row.ct, view: view };
        });
      }));
    }).then(function (items) {
      var now = Date.now();
      var stale = items.filter(function (i) {
        return i.status === "sent" && (!i.view || now - (i.view.sent_at || 0) > SENT_KEEP_MS);
      });
      st.items = items.filter(function (i) { return stale.indexOf(i) < 0; });
      if (stale.length) {
        return run("queue", "readwrite", function (s) { stale.forEach(function (i) { s.delete(i.key); }); });
      }
    });
  }

  function saveBoot() {
    return seal("today", st.boot).then(function (box) {
      return run("cache", "readwrite", function (s) { s.put({ id: "today", key_id: box.key_id, iv: box.iv, ct: box.ct }); });
    });
  }
  function loadBoot() {
    return run("cache", "readonly", function (s) { return s.get("today"); }).then(function (row) {
      return row ? unseal("today", row) : null;
    }).then(function (boot) { if (boot) st.boot = boot; });
  }

  // Records encrypted under a lapsed session's key move to the current key.
  function rekey() {
    var moved = st.items.filter(function (i) { return i.view && i.key_id !== st.current; });
    return moved.reduce(function (p, item) { return p.then(function () { return saveItem(item); }); }, Promise.resolve());
  }

  // ---- server ---------------------------------------------------------------------------

  function api(path, init) {
    init = init || {};
    init.credentials = "same-origin";
    init.cache = "no-store";
    init.headers = Object.assign({ "X-DH-Offline": "1", "X-DH-Lang": lang() }, init.headers || {});
    return fetch(API + path, init);
  }

  function sessionGone() {
    // Expiry: the queue stays encrypted; the key and the cached list go.
    st.mode = "signin";
    forgetKeys();
    dbExists().then(function (exists) {
      if (exists) return run("cache", "readwrite", function (s) { s.clear(); });
    }).catch(function () {});
    render();
  }

  function bootstrap() {
    if (st.booting) return st.booting;
    if (!navigator.onLine || !sessionCookie()) return Promise.resolve(false);
    st.booting = api("bootstrap", { method: "GET" }).then(function (res) {
      if (res.status === 401) { sessionGone(); return false; }
      if (res.status === 403) { st.mode = "off"; render(); return false; }
      if (!res.ok) return false;
      return res.json().then(function (data) {
        var map = {};
        map[data.device_key.key_id] = data.device_key.key;
        (data.previous_keys || []).forEach(function (k) { map[k.key_id] = k.key; });
        st.keys = {};
        return importKeys(map).then(function () {
          st.current = data.device_key.key_id;
          st.mode = "ok";
          st.lastBoot = Date.now();
          st.boot = { today: data.today, places: data.places, today_date: data.today_date };
          return saveBoot();
        }).then(loadItems).then(rekey).then(function () {
          // Lapsed keys are no longer needed once their records moved to this one.
          var only = {}; only[st.current] = data.device_key.key;
          writeKeySlot(st.current, only);
          Object.keys(st.keys).forEach(function (id) { if (id !== st.current) delete st.keys[id]; });
          render();
          return true;
        });
      });
    }).catch(function () { return false; }).then(function (ok) { st.booting = null; return ok; });
    return st.booting;
  }

  function sync(afterBoot) {
    if (st.syncing || !navigator.onLine || st.mode === "off") return Promise.resolve();
    var waiting = st.items.filter(function (i) { return i.status === "waiting"; });
    if (!waiting.length) return Promise.resolve();
    if (!sessionCookie()) { st.mode = "signin"; render(); return Promise.resolve(); }
    var locked = waiting.some(function (i) { return !i.view; });
    if (!afterBoot && (!st.current || locked)) {
      // Records this tab cannot open yet: the bootstrap may bring their key back.
      if (st.mode === "signin") return Promise.resolve();
      return bootstrap().then(function (ok) { if (ok) return sync(true); });
    }
    var sendable = waiting.filter(function (i) { return i.view; });
    if (!st.current || !sendable.length) return Promise.resolve();
    st.syncing = true;
    st.lastSync = Date.now();
    render();
    var batches = [];
    for (var i = 0; i < sendable.length; i += BATCH) batches.push(sendable.slice(i, i + BATCH));
    var stop = false;
    return batches.reduce(function (p, batch) {
      return p.then(function () {
        if (stop) return;
        var body = { records: batch.map(function (item) {
          return { key: item.key, kind: item.kind, created_at: item.view.created_at,
            payload: item.view.payload, context: item.view.context || {}, confirm: !!item.view.confirm };
        }) };
        return api("sync", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
          .then(function (res) {
            if (res.status === 401) { stop = true; sessionGone(); return; }
            if (!res.ok) { stop = true; return; }
            return res.json().then(function (out) { return applyResults(batch, out.results || []); });
          }, function () { stop = true; });
      });
    }, Promise.resolve()).then(function () {
      st.syncing = false; st.lastSync = Date.now(); st.notice = ""; render();
      // A record saved while this round was under way goes now, not at the next tick.
      var sentKeys = sendable.map(function (it) { return it.key; });
      var newcomer = st.items.some(function (it) {
        return it.status === "waiting" && it.view && sentKeys.indexOf(it.key) < 0;
      });
      if (newcomer && !stop) return sync(true);
    }, function () { st.syncing = false; render(); });
  }

  function applyResults(batch, results) {
    var byKey = {};
    results.forEach(function (r) { byKey[r.key] = r; });
    return batch.reduce(function (p, item) {
      return p.then(function () {
        var r = byKey[item.key];
        if (!r) return; // no answer: it stays waiting and goes again
        if (r.status === "sent" || r.status === "duplicate") {
          item.status = "sent";
          // The server has it now: keep only what the list shows.
          item.view = { label: item.view.label, created_at: item.view.created_at,
            record_id: r.record_id, sent_at: Date.now() };
        } else {
          item.status = "rejected";
          item.view.reason = r.reason || "";
          item.view.message = r.message || "";
          item.view.fields = r.fields || {};
          item.view.confirmable = !!r.confirmable;
          item.view.confirm = false;
        }
        return saveItem(item);
      });
    }, Promise.resolve());
  }

  // ---- recording offline ----------------------------------------------------------------

  var FORMS = {
    visit: [
      { name: "client_id", type: "client", required: true },
      { name: "visit_date", type: "date", label: "offline.field.date", required: true },
      { name: "kind", type: "select", label: "offline.field.visit_kind",
        options: ["home", "phone", "community_meeting", "clinic_attendance"], prefix: "offline.visit_kind." },
      { name: "content", type: "checks", label: "offline.field.content",
        options: ["counselling", "education", "support"], prefix: "offline.content." },
      { name: "notes", type: "textarea", label: "offline.field.notes" },
      { name: "next_appointment", type: "date", label: "offline.field.next", future: true },
    ],
    contact: [
      { name: "contact_date", type: "date", label: "offline.field.date", required: true },
      { name: "place_id", type: "place", label: "offline.field.place", required: true },
      { name: "category", type: "select", label: "offline.field.category",
        options: ["pwud", "relative", "hiv", "high_risk", "student", "other"], prefix: "offline.category." },
      { name: "count", type: "number", label: "offline.field.count" },
      { name: "topic", type: "text", label: "offline.field.topic" },
      { name: "client_id", type: "client", optional: true },
    ],
    test: [
      { name: "client_id", type: "client", required: true },
      { name: "tested_on", type: "date", label: "offline.field.date", required: true },
      { name: "result", type: "select", label: "offline.field.result",
        options: ["negative", "positive", "invalid"], prefix: "offline.result." },
    ],
  };
  var DATE_FIELD = { visit: "visit_date", contact: "contact_date", test: "tested_on" };

  function todayRow(clientId) {
    var rows = (st.boot && st.boot.today) || [];
    for (var i = 0; i < rows.length; i++) if (rows[i].client_id === clientId) return rows[i];
    return null;
  }

  function formValues(form, kind) {
    var fd = new FormData(form), payload = {}, errors = {};
    FORMS[kind].forEach(function (f) {
      var v = fd.get(f.name);
      if (f.type === "checks") { payload[f.name] = fd.getAll(f.name).join(","); return; }
      v = v == null ? "" : String(v).trim();
      if (f.type === "client" || f.type === "place") {
        payload[f.name] = v ? parseInt(v, 10) : null;
      } else if (f.type === "number") {
        payload[f.name] = v ? parseInt(v, 10) : 1;
      } else if (f.type === "date") {
        payload[f.name] = v || null;
      } else {
        payload[f.name] = v;
      }
      if (f.required && (payload[f.name] === null || payload[f.name] === "")) errors[f.name] = text("offline.error.required");
    });
    return { payload: payload, errors: errors };
  }

  function submitForm(form) {
    var kind = st.form.kind, editing = st.form.key;
    var got = formValues(form, kind);
    if (Object.keys(got.errors).length) { st.form.errors = got.errors; st.form.values = got.payload; render(); return; }
    var client = got.payload.client_id ? todayRow(got.payload.client_id) : null;
    var item = null;
    if (editing) item = st.items.filter(function (i) { return i.key === editing; })[0];
    if (!item) {
      item = { key: uuid4(), seq: nextSeq(), kind: kind, status: "waiting",
        view: { created_at: new Date().toISOString(), context: { episode_id: client ? client.episode_id : null } } };
      st.items.push(item);
    }
    item.status = "waiting";
    item.view.payload = got.payload;
    item.view.label = { name: client ? client.given_name : "", date: got.payload[DATE_FIELD[kind]] || "" };
    delete item.view.reason; delete item.view.message; delete item.view.fields;
    item.view.confirm = !!(st.form && st.form.confirm);
    st.form = null;
    st.notice = text("offline.saved");
    saveItem(item).then(function () { render(); if (navigator.onLine) sync(); }, function () { render(); });
  }

  // ---- the panel --------------------------------------------------------------------------

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") el.textContent = v;
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach(function (c) { if (c) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return el;
  }

  function injectStyle() {
    if (document.getElementById("dho-style")) return;
    var css = [
      "#dh-offline{padding:12px 16px 0;max-width:960px}",
      ".dho-card{border:1px solid #d6d3d1;border-left:4px solid #b45309;border-radius:10px;padding:12px;background:#fffbeb;font-size:15px;line-height:1.4}",
      ".dho-card h2{font-size:17px;margin:0 0 6px;font-weight:600}",
      ".dho-card p{margin:6px 0}",
      ".dho-actions{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}",
      ".dho-btn{min-height:44px;padding:8px 14px;border-radius:8px;border:1px solid #0f766e;background:#0f766e;color:#fff;font-size:15px;cursor:pointer}",
      ".dho-btn.dho-soft{background:#fff;color:#0f766e}",
      ".dho-btn.dho-danger{background:#fff;color:#b91c1c;border-color:#b91c1c}",
      ".dho-form{display:flex;flex-direction:column;gap:10px;margin:10px 0;padding:10px;background:#fff;border-radius:8px;border:1px solid #e7e5e4}",
      ".dho-form label{display:flex;flex-direction:column;gap:4px;font-weight:500}",
      ".dho-form input,.dho-form select,.dho-form textarea{min-height:44px;font-size:16px;padding:8px;border:1px solid #a8a29e;border-radius:8px;background:#fff;width:100%;box-sizing:border-box}",
      ".dho-form fieldset{border:0;padding:0;margin:0}",
      ".dho-form fieldset label{flex-direction:row;align-items:center;gap:8px;min-height:44px;font-weight:400}",
      ".dho-form fieldset input{width:22px;min-height:22px}",
      ".dho-err{color:#b91c1c;font-size:14px;font-weight:400}",
      ".dho-list{list-style:none;margin:8px 0 0;padding:0;display:flex;flex-direction:column;gap:6px}",
      ".dho-list li{background:#fff;border:1px solid #e7e5e4;border-radius:8px;padding:8px}",
      ".dho-badge{display:inline-block;font-size:13px;padding:2px 8px;border-radius:999px;margin-left:6px}",
      ".dho-waiting{background:#fef3c7;color:#92400e}.dho-sent{background:#d1fae5;color:#065f46}.dho-rejected{background:#fee2e2;color:#991b1b}",
      // Offline, the banner and this panel say it all: no "cannot connect" error toast on top.
      "html[data-dh-offline] [data-sonner-toast][data-type=error]{display:none}",
    ].join("\n");
    document.head.appendChild(h("style", { id: "dho-style", text: css }));
  }

  function counts() {
    var c = { waiting: 0, sent: 0, rejected: 0 };
    st.items.forEach(function (i) { c[i.status] = (c[i.status] || 0) + 1; });
    return c;
  }

  function fieldInput(f, values, errors) {
    var value = values[f.name];
    var input;
    if (f.type === "client") {
      var opts = [h("option", { value: "", text: f.optional ? text("offline.field.client_none") : "—" })];
      ((st.boot && st.boot.today) || []).forEach(function (r) {
        var due = text("offline.due." + r.due_kind) + (r.due_on ? " " + showDate(r.due_on) : "");
        opts.push(h("option", { value: String(r.client_id), selected: value === r.client_id, text: r.given_name + " — " + due }));
      });
      input = h("select", { name: f.name, required: f.required }, opts);
      f = Object.assign({ label: "offline.field.client" }, f);
    } else if (f.type === "place") {
      var places = (st.boot && st.boot.places) || [];
      input = h("select", { name: f.name, required: true }, places.map(function (p) {
        return h("option", { value: String(p.id), selected: value === p.id, text: p.name });
      }));
    } else if (f.type === "select") {
      input = h("select", { name: f.name }, f.options.map(function (o) {
        return h("option", { value: o, selected: value === o, text: text(f.prefix + o) });
      }));
    } else if (f.type === "checks") {
      var chosen = String(value || "").split(",");
      return h("fieldset", {}, [h("legend", { text: text(f.label) })].concat(f.options.map(function (o) {
        return h("label", {}, [h("input", { type: "checkbox", name: f.name, value: o, checked: chosen.indexOf(o) >= 0 }), text(f.prefix + o)]);
      })).concat([errors[f.name] ? h("span", { class: "dho-err", text: errors[f.name] }) : null]));
    } else if (f.type === "textarea") {
      input = h("textarea", { name: f.name, rows: "3", maxlength: "2000" });
      input.value = value || "";
    } else if (f.type === "date") {
      var today = localDate();
      input = h("input", { type: "date", name: f.name, required: f.required, value: value === undefined ? (f.required ? today : "") : (value || ""),
        max: f.future ? null : today, min: f.future ? null : "2000-01-01" });
    } else if (f.type === "number") {
      input = h("input", { type: "number", name: f.name, min: "1", max: "10000", inputmode: "numeric", value: String(value || 1) });
    } else {
      input = h("input", { type: "text", name: f.name, maxlength: "200", value: value || "" });
    }
    return h("label", {}, [text(f.label), input, errors[f.name] ? h("span", { class: "dho-err", text: errors[f.name] }) : null]);
  }

  function renderForm() {
    var kind = st.form.kind;
    var values = st.form.values || {}, errors = st.form.errors || {};
    var form = h("form", { class: "dho-form", id: "dho-form", "data-kind": kind, novalidate: true,
      onsubmit: function (e) { e.preventDefault(); submitForm(e.target); } },
    [h("strong", { text: text("offline.action." + kind) })]
      .concat(st.form.message ? [h("p", { class: "dho-err", role: "alert", text: st.form.message })] : [])
      .concat(FORMS[kind].map(function (f) { return fieldInput(f, values, errors); }))
      .concat([h("div", { class: "dho-actions" }, [
        h("button", { type: "submit", class: "dho-btn", id: "dho-save", text: text("offline.save") }),
        h("button", { type: "button", class: "dho-btn dho-soft", text: text("offline.cancel"),
          onclick: function () { st.form = null; render(); } }),
      ])]));
    return form;
  }

  function itemLabel(item) {
    var v = item.view || {}, label = v.label || {};
    return [text("offline.kind." + item.kind), label.name, showDate(label.date)].filter(Boolean).join(" · ");
  }

  function renderItem(item) {
    var status = item.status;
    var li = h("li", { "data-key": item.key, "data-status": status }, [
      h("span", { text: itemLabel(item) }),
      h("span", { class: "dho-badge dho-" + status, text: text("offline.status." + status) }),
    ]);
    if (status === "rejected" && item.view) {
      var v = item.view;
      li.appendChild(h("p", { class: "dho-err", text: v.message || v.reason }));
      Object.keys(v.fields || {}).forEach(function (name) {
        li.appendChild(h("p", { class: "dho-err", text: v.fields[name] }));
      });
      var actions = [];
      if (v.confirmable) {
        actions.push(h("button", { type: "button", class: "dho-btn", text: text("offline.send_anyway"),
          onclick: function () { v.confirm = true; item.status = "waiting"; saveItem(item).then(function () { render(); sync(); }); } }));
      }
      if (v.payload && v.reason !== "offline.reason.client_unavailable") {
        actions.push(h("button", { type: "button", class: "dho-btn dho-soft", text: text("offline.fix"),
          onclick: function () {
            var errs = {};
            Object.keys(v.fields || {}).forEach(function (n) { errs[n] = v.fields[n]; });
            st.form = { kind: item.kind, key: item.key, values: v.payload, errors: errs, message: v.message };
            render();
          } }));
      }
      actions.push(h("button", { type: "button", class: "dho-btn dho-danger", text: text("offline.discard"),
        onclick: function () {
          if (!window.confirm(text("offline.discard_confirm"))) return;
          run("queue", "readwrite", function (s) { s.delete(item.key); }).then(loadItems).then(render);
        } }));
      li.appendChild(h("div", { class: "dho-actions" }, actions));
    }
    return li;
  }

  function render() {
    if (navigator.onLine) document.documentElement.removeAttribute("data-dh-offline");
    else document.documentElement.setAttribute("data-dh-offline", "");
    injectStyle();
    var mount = document.getElementById("dh-offline");
    if (!mount) return;
    mount.__dho = true;
    var offline = !navigator.onLine;
    var c = counts();
    var locked = st.items.filter(function (i) { return !i.view && i.status !== "sent"; }).length;
    var show = st.mode !== "off" && (offline || st.items.length > 0 || st.form || st.notice);
    mount.hidden = !show;
    mount.textContent = "";
    if (!show) return;
    var parts = [h("h2", { text: text("offline.panel.title") })];
    if (offline && st.current) parts.push(h("p", { text: text("offline.mode") }));
    if (st.mode === "signin" && (c.waiting || c.rejected)) {
      parts.push(h("p", { role: "alert" }, [text("offline.need_signin") + " ", h("a", { href: "/", text: text("offline.signin") })]));
    }
    if (offline && !st.current) parts.push(h("p", { text: text("offline.no_key") }));
    parts.push(h("p", { id: "dh-offline-counts", role: "status", "data-waiting": String(c.waiting),
      "data-sent": String(c.sent), "data-rejected": String(c.rejected),
      text: text("offline.counts", { waiting: c.waiting, sent: c.sent, rejected: c.rejected }) + (st.syncing ? " · " + text("offline.sending") : "") }));
    if (locked) parts.push(h("p", { text: text("offline.locked", { count: locked }) }));
    if (st.notice) parts.push(h("p", { role: "status", text: st.notice }));
    if (st.form) {
      parts.push(renderForm());
    } else if (offline && st.current && st.boot) {
      parts.push(h("div", { class: "dho-actions" }, ["visit", "contact", "test"].map(function (kind) {
        return h("button", { type: "button", class: "dho-btn", id: "dho-new-" + kind, text: text("offline.action." + kind),
          onclick: function () { st.notice = ""; st.form = { kind: kind }; render(); } });
      })));
    }
    var visible = st.items.filter(function (i) { return i.view; });
    if (visible.length) parts.push(h("ul", { class: "dho-list", id: "dh-offline-list" }, visible.slice().reverse().map(renderItem)));
    mount.appendChild(h("div", { class: "dho-card", "aria-label": text("offline.panel.label") }, parts));
  }

  // ---- wipe, sign-out, the loop ---------------------------------------------------------

  /* Called by dhWipeDevice (assets/dh.js). Deliberate sign-out: delete everything. Session
   * expiry: forget the key and the cached list, keep the encrypted unsent records. */
  window.dhOfflineWipe = function (deliberate) {
    forgetKeys();
    st.form = null; st.notice = "";
    st.mode = deliberate ? "unknown" : "signin";
    if (deliberate) {
      st.items = [];
      closeDb();
      indexedDB.deleteDatabase(DB_NAME);
      render();
      return;
    }
    dbExists().then(function (exists) {
      if (!exists) return;
      return run("cache", "readwrite", function (s) { s.clear(); })
        .then(function () {
          return run("queue", "readwrite", function (s) {
            st.items.filter(function (i) { return i.status === "sent"; }).forEach(function (i) { s.delete(i.key); });
          });
        }).then(loadItems);
    }).then(render, render);
  };

  window.addEventListener("click", function (e) {
    var target = e.target && e.target.closest ? e.target.closest("#sign-out") : null;
    if (!target) return;
    var pending = st.items.filter(function (i) { return i.status !== "sent"; }).length;
    if (pending && !window.confirm(text("offline.signout_confirm", { count: pending }))) {
      e.preventDefault();
      e.stopImmediatePropagation();
      return;
    }
    window.__dhDeliberateSignOut = true;
    if (!navigator.onLine && window.dhWipeDevice) {
      // The server hears of it when the connection returns; the device is clean now.
      window.dhWipeDevice();
      // The HttpOnly session cookie goes when the server hears of the sign-out.
      document.cookie = "dh_signed_in=; Max-Age=0; path=/; SameSite=Strict";
    }
  }, true);

  function hydrated(el) {
    return Object.keys(el).some(function (k) { return k.indexOf("__react") === 0; });
  }

  var started = Date.now();
  function tick() {
    var mount = document.getElementById("dh-offline");
    // Wait for React to own the mount point, or hydration would find foreign nodes.
    if (mount && !mount.__dho && (hydrated(mount) || Date.now() - started > 8000)) render();
    var cookie = sessionCookie();
    if (cookie !== st.session) {
      st.session = cookie;
      if (cookie && navigator.onLine) {
        st.mode = "unknown";
        bootstrap().then(function (ok) { return ok ? sync(true) : null; });
      }
    }
    if (navigator.onLine && cookie && st.mode === "ok" && Date.now() - st.lastBoot > BOOT_EVERY_MS) bootstrap();
    if (navigator.onLine && Date.now() - st.lastSync > SYNC_EVERY_MS) sync();
  }

  function start() {
    var slot = readKeySlot();
    var ready = slot && slot.current && slot.keys
      ? importKeys(slot.keys).then(function () { st.current = slot.current; st.mode = "ok"; }, function () { forgetKeys(); })
      : Promise.resolve();
    ready.then(dbExists).then(function (exists) {
      if (!exists) return;
      return loadItems().then(function () { return st.current ? loadBoot() : null; });
    }).catch(function () { /* storage unavailable: nothing to show */ }).then(function () {
      // Opened offline at the start page with a session and a queue: go to the Today shell.
      if (!navigator.onLine && location.pathname === "/" && sessionCookie() && (st.items.length || st.current)) {
        location.replace("/today");
        return;
      }
      st.session = null;
      tick();
      setInterval(tick, TICK_MS);
    });
  }

  window.addEventListener("online", function () {
    render();
    bootstrap().then(function (ok) { return ok ? sync(true) : sync(); });
  });
  window.addEventListener("offline", function () { st.notice = ""; render(); });
  start();
})();
