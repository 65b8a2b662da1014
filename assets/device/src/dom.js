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

export const STYLE = `
#dh-device{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,sans-serif;font-size:16px;line-height:1.45;color:#1c1917}
#dh-device .dhd-screen{position:fixed;inset:0;z-index:2000;background:#fff;overflow:auto;display:flex;flex-direction:column}
#dh-device .dhd-top{display:flex;align-items:center;gap:8px;padding:10px 16px;background:#0f766e;color:#fff;min-height:56px;box-sizing:border-box}
#dh-device .dhd-top h1{font-size:19px;margin:0;font-weight:600;flex:1}
#dh-device .dhd-body{padding:12px 16px 96px;max-width:640px;width:100%;box-sizing:border-box;margin:0 auto;flex:1}
#dh-device .dhd-nav{position:fixed;left:0;right:0;bottom:0;display:flex;background:#fff;border-top:1px solid #d6d3d1;z-index:2001}
#dh-device .dhd-nav a{flex:1;text-align:center;padding:12px 4px;min-height:48px;box-sizing:border-box;color:#0f766e;text-decoration:none;font-size:14px}
#dh-device .dhd-nav a[aria-current=page]{font-weight:700;border-top:3px solid #0f766e}
#dh-device .dhd-card{border:1px solid #e7e5e4;border-radius:12px;padding:12px;margin:8px 0;background:#fff}
#dh-device a.dhd-card{display:block;color:inherit;text-decoration:none}
#dh-device .dhd-muted{color:#57534e;font-size:14px}
#dh-device .dhd-btn{min-height:48px;padding:10px 16px;border-radius:10px;border:1px solid #0f766e;background:#0f766e;color:#fff;font-size:16px;cursor:pointer;font-family:inherit}
#dh-device .dhd-btn.dhd-soft{background:#fff;color:#0f766e}
#dh-device .dhd-btn.dhd-danger{background:#fff;color:#b91c1c;border-color:#b91c1c}
#dh-device .dhd-btn[disabled]{opacity:.6}
#dh-device .dhd-row{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
#dh-device label{display:flex;flex-direction:column;gap:4px;font-weight:500;margin:10px 0}
#dh-device button,#dh-device input{font-family:inherit}
#dh-device input{min-height:48px;font-size:16px;padding:8px 12px;border:1px solid #a8a29e;border-radius:10px;box-sizing:border-box;width:100%}
#dh-device .dhd-err{color:#b91c1c;font-size:14px}
#dh-device .dhd-badge{display:inline-block;font-size:13px;padding:2px 8px;border-radius:999px;margin-right:6px}
#dh-device .dhd-waiting{background:#fef3c7;color:#92400e}
#dh-device .dhd-sent{background:#d1fae5;color:#065f46}
#dh-device .dhd-dismissed{background:#e7e5e4;color:#44403c}
#dh-device .dhd-kept,#dh-device .dhd-question{background:#fee2e2;color:#991b1b}
#dh-device dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:8px 0}
#dh-device dt{color:#57534e}
#dh-device dd{margin:0}
#dh-device h2{font-size:17px;margin:16px 0 4px}
#dh-strip{padding:6px 16px;background:#fffbeb;border-bottom:1px solid #fde68a;font-size:13px;line-height:1.35;display:flex;align-items:center;gap:8px;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;color:#1c1917}
#dh-strip[data-link=online]{background:#f0fdfa;border-color:#99f6e4}
#dh-strip .dhs-text{flex:1;min-width:0;display:flex;flex-direction:column}
#dh-strip .dhs-line{display:flex;flex-wrap:wrap;gap:0 8px}
#dh-strip .dhs-err{color:#b91c1c;font-weight:600}
#dh-strip .dhs-link{font-weight:600}
#dh-strip .dhs-btn{min-height:44px;padding:4px 10px;border-radius:8px;border:1px solid #0f766e;background:#0f766e;color:#fff;font-size:14px;cursor:pointer;font-family:inherit;white-space:nowrap}
#dh-strip .dhs-btn.dhs-soft{background:#fff;color:#0f766e}
#dh-strip .dhs-btn[disabled]{opacity:.6}
#dh-strip a{color:#0f766e}
.dh-field-error{color:#b91c1c;font-size:14px;margin:4px 0 0}
#saved-notice .dh-saved{background:var(--green-a3,#dcfce7);color:var(--green-12,#14532d);border-radius:8px;padding:12px 14px;margin-bottom:12px;font-size:15px;line-height:1.4}
#dh-notice{position:fixed;left:12px;right:12px;bottom:84px;z-index:2100;background:#065f46;color:#fff;border-radius:10px;padding:12px 14px;font-size:15px;box-shadow:0 4px 16px rgba(0,0,0,.2)}
#dh-notice[data-tone=error]{background:#991b1b}
html[data-dh-cover] body>*:not(#dh-device){visibility:hidden}
html[data-dh-link=offline] [data-sonner-toast][data-type=error]{display:none}
`;
