/* The screens a volunteer can use with no signal, as React Router paths (the route manifest's
 * `path`; "" is the sign-in page, "*" the not-found page). The service worker precaches the
 * code of exactly these (issue 14) and nothing else: a supervisor's or administrator's screen
 * is kept when it is first opened online, so a volunteer's phone never downloads code it has
 * no use for (issue 20). The device draws Today, My clients and a client's page offline from
 * the sealed snapshot and fills the record forms' lists; every other screen needs the server.
 * In this order the worker asks for their code (similar screens side by side: one gzip stream
 * then compresses what they share better, ~0.3 KB on the pack).
 */
export const OFFLINE_ROUTES = [
  "", "today", "clients", "clients/:client_id", "clients/new",
  "clients/:client_id/visit", "clients/:client_id/test", "clients/:client_id/referral",
  "clients/:client_id/support", "outreach", "group-activity", "*",
];

/** The build files the app needs offline, from the route manifest (`window.__reactRouterManifest
 * = {...}` as the build writes it): the entry, the root and the offline routes, each with the
 * chunks it imports and its CSS, in the order of OFFLINE_ROUTES. Null when the text is not a
 * manifest. */
export function offlineFiles(manifestText) {
  let manifest;
  try {
    manifest = JSON.parse(manifestText.slice(manifestText.indexOf("{"), manifestText.lastIndexOf("}") + 1));
  } catch {
    return null;
  }
  if (!manifest || !manifest.entry || !manifest.routes) return null;
  const out = new Set();
  const add = (node) => {
    if (!node) return;
    if (node.module) out.add(node.module);
    for (const f of [...(node.imports || []), ...(node.css || [])]) out.add(f);
  };
  add(manifest.entry);
  const routes = Object.values(manifest.routes);
  add(routes.find((route) => route.id === "root"));
  for (const path of OFFLINE_ROUTES) {
    for (const route of routes) if (route.id !== "root" && (route.path ?? "") === path) add(route);
  }
  return [...out].filter((f) => f.startsWith("/assets/"));
}
