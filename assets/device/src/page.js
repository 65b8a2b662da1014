/* What the device knows of the page it runs in, shared by its first lines (boot.js) and the
 * device code (main.js): whether React has taken an element over, which form signs in, what
 * this tab last learnt about the link, and when the page has drawn what it was opened for. */

export const PAGE_WAIT_MS = 4_000; // the longest the device waits for the page's data
export const LINK = "dh_link"; // sessionStorage: the last evidence about the link (not personal)
const LINK_FRESH_MS = 5 * 60_000;

/** React has hydrated this element (the server's HTML is now React's). */
export function hydrated(el) {
  return Object.keys(el).some((k) => k.startsWith("__react"));
}

/** The fields of a sign-in form (a password and a login), or null for any other form: the
 * device keeps a key derived from the password as it is sent (main.js onSignInSubmit). */
export function signInFields(form) {
  const password = form?.querySelector?.("input[type=password]");
  const login = form?.querySelector?.("input[name=login], input[name=username], input[autocomplete=username]");
  return password && login ? { password, login } : null;
}

/** What this tab last learnt about the link ("online" | "offline" | "unknown"), if it was in
 * the last five minutes; else null. */
export function recentLink(storage = globalThis.sessionStorage, now = Date.now()) {
  try {
    const last = JSON.parse(storage.getItem(LINK) || "null");
    return last && now - last.at < LINK_FRESH_MS ? last.state : null;
  } catch {
    return null; /* disabled or unreadable */
  }
}

/** Resolves once the app has drawn this very page's data (`<html data-dh-drawn>` names the
 * path it was drawn for, app/components/frame.py; right after a link was followed it still
 * names the last page); at once when `offline()` says there is no signal; after `ms` at the
 * latest. */
export function drawnHere({ offline = () => navigator.onLine === false, ms = PAGE_WAIT_MS } = {}) {
  const here = () => document.documentElement.getAttribute("data-dh-drawn") === window.location.pathname;
  return new Promise((resolve) => {
    if (offline() || here()) { resolve(); return; }
    const done = () => { window.removeEventListener("dh:page-drawn", seen); clearTimeout(timer); resolve(); };
    const seen = () => { if (here()) done(); };
    const timer = setTimeout(done, ms);
    window.addEventListener("dh:page-drawn", seen);
  });
}

/** Resolves once the page has painted its first text or image (the browser's
 * first-contentful-paint entry); at once where the browser does not say. */
function contentPainted() {
  return new Promise((resolve) => {
    const seen = (list) => list.some((e) => e.name === "first-contentful-paint");
    if (!window.PerformanceObserver || seen(performance.getEntriesByType("paint"))) { resolve(); return; }
    try {
      const watch = new PerformanceObserver((entries) => { if (seen(entries.getEntries())) { watch.disconnect(); resolve(); } });
      watch.observe({ type: "paint", buffered: true });
    } catch { resolve(); }
  });
}

/** Resolves once the page has shown what it was opened for: its data is drawn (drawnHere),
 * the page has painted content at all (a build without prerendered frames serves a client's
 * page as the bare app shell, which paints nothing before its route's code has come), and the
 * browser has painted the frame after and is idle; or PAGE_WAIT_MS have passed (a page whose
 * server does not answer); or at once when `offline()` says there is no signal. */
export function pageDrawn({ offline = () => navigator.onLine === false } = {}) {
  return new Promise((resolve) => {
    if (offline()) { resolve(); return; }
    setTimeout(resolve, PAGE_WAIT_MS);
    // React commits the data, then the browser styles, lays out and paints it: the second
    // animation frame comes after that paint, and the idle callback after the page's own work.
    const idle = window.requestIdleCallback ? (fn) => requestIdleCallback(fn, { timeout: 500 }) : (fn) => setTimeout(fn, 50);
    drawnHere({ offline }).then(contentPainted).then(() => requestAnimationFrame(() => requestAnimationFrame(() => idle(resolve))));
  });
}
