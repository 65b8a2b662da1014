/* The device's first lines on every page (/device/boot.js, 1.3 KB gzip): they load the device
 * code itself (/device/app.js: the outbox, the vault, the offline screens, the status strip)
 * once the page has shown what it was opened for (page.js pageDrawn). On a phone with a slow
 * link and a slow processor its 30 KB (gzip) and its start would otherwise come in the middle of the
 * page's own code and data, and hold back the screen the volunteer opened (issue 20).
 *
 * Sooner when it is needed sooner:
 *   - on the sign-in page: the device keeps a key derived from the password as it is sent;
 *   - when the device knows there is no signal (the browser says so, or this tab's last
 *     evidence did): the offline screens then draw the page, which the server will not;
 *   - at the volunteer's first touch or key, so that it is there when they act;
 *   - at the latest PAGE_WAIT_MS after this script ran (a server that does not answer).
 * Until the device code has started, what it must handle is held and replayed once it has:
 * a form sent (a record form saves into the outbox; a form sent before React has taken the
 * page would go as the browser's own GET; the sign-in form gives the password's key), a tap on
 * "Đăng xuất" (the device asks about unsent records first), and the server's wipe at sign-out
 * or expiry (`dhWipeDevice`). */
import { hydrated, pageDrawn, recentLink, signInFields } from "./page.js";

const CODE = "/device/app.js";
const START_WAIT_MS = 10_000; // a device code that never says it started is not waited for longer

const knownOffline = () => navigator.onLine === false || recentLink() === "offline";

const boot = {
  waited: false, // the page had shown what it was opened for when the device code was loaded
  isStarted: false,
  started: null, // called by the device code once it handles what is held here (main.js start)
  load: null,
};
const started = new Promise((resolve) => {
  boot.started = () => { boot.isStarted = true; resolve(); };
});
window.__dhBoot = boot;

let loading = null;
/** The device code, loaded once; resolves true when it has started, false when it could not be
 * loaded (it is tried again at the next need: a tap, a save). */
boot.load = function load() {
  if (!loading) {
    loading = new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = CODE;
      script.onload = () => {
        setTimeout(boot.started, START_WAIT_MS); // a device code that failed to start
        started.then(() => resolve(true));
      };
      script.onerror = () => { loading = null; resolve(false); };
      document.head.append(script);
    });
  }
  return loading;
};

/** The form or tap the device code must see: held (true) until it has started. */
function mustWait(event) {
  if (event.type === "click") return !!event.target.closest?.("#sign-out");
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return false;
  return !!form.dataset.outbox || !!signInFields(form) || (!form.hasAttribute("action") && !hydrated(form));
}

const held = new WeakSet();
function hold(event) {
  if (boot.isStarted || !mustWait(event)) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  const target = event.type === "click" ? event.target.closest("#sign-out") : event.target;
  if (held.has(target)) return; // tapped again while waiting: once
  held.add(target);
  const submitter = event.submitter && event.submitter.form === target ? event.submitter : null;
  boot.load().then((ready) => {
    held.delete(target);
    // Not loaded: what was typed stays in the form, and the next tap tries again (replayed now,
    // it would be held again at once: a request after request while the file cannot come).
    if (!ready || !target.isConnected) return;
    if (event.type === "click") target.click();
    else target.requestSubmit(submitter);
  });
}

window.addEventListener("submit", hold, true);
window.addEventListener("click", hold, true);

// Replaced by the device code's own when it is loaded (main.js).
const waitingWipe = function dhWipeDevice() {
  return boot.load().then((ready) => {
    if (ready && window.dhWipeDevice !== waitingWipe) return window.dhWipeDevice();
    try { sessionStorage.clear(); } catch { /* disabled */ } // no device code: its key at least
    return undefined;
  });
};
window.dhWipeDevice = waitingWipe;

const now = () => boot.load();
const path = location.pathname.replace(/\/+$/, "") || "/";
if (path === "/" || knownOffline()) {
  now();
} else {
  window.addEventListener("offline", now, { once: true });
  for (const ev of ["pointerdown", "keydown"]) window.addEventListener(ev, now, { once: true, passive: true, capture: true });
  pageDrawn({ offline: knownOffline }).then(() => {
    boot.waited = !loading;
    now();
  });
}
