/* Page helper: registers the service worker, shows the offline banner, wipes the device. */
(function () {
  "use strict";
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
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
    try {
      var lang = window.localStorage.getItem("dh_lang");
      window.localStorage.clear();
      if (lang) window.localStorage.setItem("dh_lang", lang);
    } catch (e) { /* storage may be disabled */ }
    if (window.indexedDB && indexedDB.databases) {
      indexedDB.databases().then(function (dbs) {
        dbs.forEach(function (db) { if (db.name) indexedDB.deleteDatabase(db.name); });
      });
    }
    if (window.caches) {
      caches.keys().then(function (keys) {
        keys.forEach(function (k) { if (k.indexOf("dh-shell-") !== 0) caches.delete(k); });
      });
    }
  };
})();
