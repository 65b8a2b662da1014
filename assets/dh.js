/* Page helper: registers the service worker, shows the offline banner, wipes the device. */
(function () {
  "use strict";
  /* The build's id: the hash in the name of the route manifest the page preloads. A new
   * deploy changes it, so the worker's URL changes and the browser installs the new worker
   * (its cache is named after the build; see assets/sw.js). */
  function buildId() {
    var link = document.querySelector('link[rel="modulepreload"][href*="/assets/manifest-"]');
    var m = link && /manifest-([A-Za-z0-9_-]+)\.js/.exec(link.getAttribute("href"));
    return m ? m[1] : "dev";
  }
  /* React may insert this script after the page's load event has fired: run at once then. */
  function whenLoaded(fn) {
    if (document.readyState === "complete") fn();
    else window.addEventListener("load", fn);
  }
  if ("serviceWorker" in navigator) {
    whenLoaded(function () {
      navigator.serviceWorker.register("/sw.js?build=" + encodeURIComponent(buildId()), { scope: "/" })
        .catch(function (err) { console.warn("service worker not registered", err); });
    });
  }
  function showConnection() {
    var banner = document.getElementById("offline-banner");
    if (banner) banner.style.display = navigator.onLine ? "none" : "block";
  }
  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);
  document.addEventListener("DOMContentLoaded", showConnection);
  setInterval(showConnection, 3000);

  /* Called at sign-out and session expiry: nothing personal may stay on the device. */
  window.dhWipeDevice = function () {
    try { window.sessionStorage.removeItem("dh_card"); } catch (e) { /* a card link kept by /k */ }
    try {
      var lang = window.localStorage.getItem("dh_lang");
      window.localStorage.clear();
      if (lang) window.localStorage.setItem("dh_lang", lang);
    } catch (e) { /* storage may be disabled */ }
    /* The offline queue (assets/offline.js) decides for itself: a deliberate sign-out
     * deletes it, an expired session keeps its encrypted unsent records for the next
     * sign-in (see docs/ARCHITECTURE.md, PWA). */
    var deliberate = !!window.__dhDeliberateSignOut;
    window.__dhDeliberateSignOut = false;
    var keepQueue = !deliberate && typeof window.dhOfflineWipe === "function";
    if (typeof window.dhOfflineWipe === "function") window.dhOfflineWipe(deliberate);
    if (window.indexedDB && indexedDB.databases) {
      indexedDB.databases().then(function (dbs) {
        dbs.forEach(function (db) {
          if (db.name && !(keepQueue && db.name === "dh-offline")) indexedDB.deleteDatabase(db.name);
        });
      });
    }
    if (window.caches) {
      caches.keys().then(function (keys) {
        keys.forEach(function (k) { if (k.indexOf("dh-shell-") !== 0) caches.delete(k); });
      });
    }
  };
})();
