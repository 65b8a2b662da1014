// Lets node's test runner import the device code's npm packages (idb, fake-indexeddb), which
// the Makefile installs into .tools/device/node_modules, not beside the sources.
import { register } from "node:module";
import { pathToFileURL } from "node:url";

// The folder holding node_modules/ (a parent URL there makes node search it).
const deps = process.env.DH_DEVICE_DEPS || ".tools/device";
register(
  "data:text/javascript," + encodeURIComponent(`
    const base = ${JSON.stringify(pathToFileURL(deps + "/").href)};
    export async function resolve(specifier, context, next) {
      try { return await next(specifier, context); }
      catch (err) {
        if (/^[./]|^[a-z]+:/.test(specifier)) throw err;
        return next(specifier, { ...context, parentURL: base + "x.js" });
      }
    }`),
  import.meta.url,
);
