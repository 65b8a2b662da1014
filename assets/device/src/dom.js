/* Tiny DOM helpers for the device's own screens (plain DOM outside React, so they work when
 * the websocket and the server are gone), and the catalogue texts built into the bundle. */

/* global __DH_TEXTS */
const TEXTS = typeof __DH_TEXTS === "undefined" ? { vi: {}, en: {} } : __DH_TEXTS;

export function lang() {
  let raw = "";
  try { raw = localStorage.getItem("dh_lang") || ""; } catch { /* disabled */ }
  return raw.replace(/"/g, "") === "en" ? "en" : "vi";
}

/** The catalogue text of `key` in the user's language, `{name}` placeholders filled. */
export function t(key, params) {
  let out = TEXTS[lang()][key] || TEXTS.vi[key] || key;
  if (params) for (const [k, v] of Object.entries(params)) out = out.split(`{${k}}`).join(String(v));
  return out;
}

/** h("button", {class: "x", onclick: fn, text: "…"}, [children]) */
export function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

