"""Build-time trimming of the frontend: what every page downloads before it can paint.

Field volunteers open the app on cheap phones over slow mobile networks, so the first screen
must not wait for code and styles it never uses. Two plugins, configured in `rxconfig.py`:

- `LeanRadixThemesPlugin`: Radix Themes as usual, but its stylesheet is assembled from the
  documented parts (one file per colour, `tokens/base.css`, `components.css`,
  `utilities.css`) with only the colours the app uses, instead of `styles.css` with all 30.
- `LeanFrontendPlugin`: adds a PostCSS step (`app/lean_radix.postcss.js`) that drops the
  rules of Radix components the app never renders, and groups the shared JavaScript of the
  pages into a few larger files instead of dozens of small ones (each file is a request,
  and a phone on a slow link pays a round trip per request), and leaves React DevTools' name
  of each generated component out of the production build (`NO_DISPLAY_NAMES`). It also
  changes two of Reflex's runtime files: the tab token comes from the CSPRNG (`state.js`), and
  components read the server's state deferred (`context-registry.js`), so that the data a page
  receives is drawn in slices rather than in one long task. After a production build every
  page names the shared libraries in a module script of their own, ahead of the page's
  (`libraries_first`): the browser evaluates them in a task of their own. And a production
  build prerenders the frame of each dynamic route (a client's page and its forms) at a
  placeholder address (`prerender_frames`), which `app/api/route_shell.py` serves.

Nothing here changes what the pages show; `tests/unit/test_frontend_build.py` keeps the lists
below honest against the source.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import reflex as rx
from reflex_base.plugins.base import Plugin

# Every colour a page can ask for: the accent (teal), its matching gray (sage, Radix's pick
# for teal), and the tones of badges, callouts and count cards (client_cards.TONES).
COLOURS = ("teal", "sage", "gray", "red", "amber", "blue", "green")

# Radix Themes components the app never renders (class-name prefixes in components.css).
UNUSED_COMPONENTS = (
    "BaseMenu", "BaseRadio", "BaseTabList", "Blockquote", "CheckboxCard", "CheckboxGroup",
    "Container", "ContextMenu", "DataList", "DropdownMenu", "Em", "HoverCard", "IconButton",
    "Inset", "Kbd", "PopoverContent", "PopperContent", "Progress", "Quote", "RadioCards",
    "RadioGroup", "ScrollArea", "Section", "SegmentedControl", "Select", "Skeleton", "Slider",
    "Switch", "TabNav", "Tabs", "ThemePanel", "Tooltip",
)

# Radix layout props the app never passes (margins and paddings are plain CSS here), whose
# utility classes are most of utilities.css.
UNUSED_UTILITIES = (
    "m", "mx", "my", "mt", "mr", "mb", "ml", "p", "px", "py", "pt", "pr", "pb", "pl",
)

POSTCSS_PLUGIN_SOURCE = Path(__file__).with_name("lean_radix.postcss.js")
POSTCSS_PLUGIN_FILE = "postcss-dh-lean-radix.js"
POSTCSS_CONFIG_FILE = "postcss.config.js"
VITE_CONFIG_FILE = "vite.config.js"


class LeanRadixThemesPlugin(rx.plugins.RadixThemesPlugin):
    """Radix Themes with only the colour scales the app uses."""

    def get_stylesheet_paths(self, **context: Any) -> tuple[str, ...]:
        if not self.enabled:
            return ()
        # The order of tokens.css: the scales, then base.css, whose `[data-gray-color]`
        # mappings must come after the scales' `.light` rules to win over them.
        return (
            *(f"@radix-ui/themes/tokens/colors/{c}.css" for c in COLOURS),
            "@radix-ui/themes/tokens/base.css",
            "@radix-ui/themes/components.css",
            "@radix-ui/themes/utilities.css",
        )


def postcss_plugin_code() -> str:
    config = {"colours": list(COLOURS), "unusedComponents": list(UNUSED_COMPONENTS),
              "unusedUtilities": list(UNUSED_UTILITIES)}
    return POSTCSS_PLUGIN_SOURCE.read_text().replace("__DH_CONFIG__", json.dumps(config))


def add_to_postcss_config(code: str) -> str:
    """Run the trimming right after postcss-import has inlined the Radix files."""
    entry = f'"./{POSTCSS_PLUGIN_FILE}": {{}},'
    if entry in code:
        return code
    anchor = '"postcss-import": {},'
    if anchor not in code:
        raise RuntimeError(f"{POSTCSS_CONFIG_FILE} has no {anchor!r} to put the trimming after")
    return code.replace(anchor, f"{anchor}\n    {entry}", 1)


# Rolldown code-splitting groups, put before Reflex's own: the libraries that the code of two or
# more pages reaches (React, Radix, Emotion, Socket.IO, the shared icons, …) in one file rather
# than dozens. A library only one page reaches keeps to that page: jsQR on /scan, the charts on
# /reports, even where that page imports it lazily (Reflex's `ClientSide(() => import(...))`
# for a chart). Rolldown's own `minShareCount: 2` counted such a lazy import as a second entry
# and, in some builds, put all of the charts into the file every page loads (+110 KB gzip).
# Pages are the route modules, the root and the client entry; a library's importers, static
# and dynamic, are followed up to them.
CHUNK_GROUPS = r"""
            {
              debugName: "vendor",
              name: (() => {
                const PAGE = /[\\/]app[\\/](routes[\\/]|root\.jsx$|entry\.client\.[jt]sx?$)/;
                const LIBRARY = /[\\/]node_modules[\\/]/;
                const known = new Map();
                const dhSharedByPages = (id, ctx) => {
                  if (!known.has(id)) {
                    const pages = new Set(), seen = new Set([id]), todo = [id];
                    while (todo.length && pages.size < 2) {
                      const at = todo.pop();
                      if (PAGE.test(at)) { pages.add(at); continue; }
                      const info = ctx.getModuleInfo(at);
                      const from = [...(info?.importers ?? []), ...(info?.dynamicImporters ?? [])];
                      for (const by of from) {
                        if (!seen.has(by)) { seen.add(by); todo.push(by); }
                      }
                    }
                    known.set(id, pages.size >= 2);
                  }
                  return known.get(id);
                };
                return (id, ctx) => (LIBRARY.test(id) && dhSharedByPages(id, ctx)
                  ? "vendor" : null);
              })(),
            },"""


def _patched(code: str, file: str, done: str, *edits: tuple[str, str]) -> str:
    """`code` (Reflex's `file`) with each `(old, new)` of `edits` made once; as it is when it
    already holds `done` (the build runs the same task again). An `old` that is not there
    exactly once is a Reflex that changed: the build fails loudly rather than ship it
    unpatched."""
    if done in code:
        return code
    for old, _ in edits:
        if code.count(old) != 1:
            raise RuntimeError(f"{file}: expected one {old!r}")
    for old, new in edits:
        code = code.replace(old, new, 1)
    return code


def add_chunk_groups(code: str) -> str:
    return _patched(code, VITE_CONFIG_FILE, "dhSharedByPages",
                    ("groups: [", "groups: [" + CHUNK_GROUPS))


# React DevTools' name for each component Reflex writes (`X.displayName = "Bare";` after every
# memo, a few hundred per screen): nothing in the app reads it; left out of a production build.
# The offline screens' code the service worker downloads: 0.3 KB less (issue 20).
NO_DISPLAY_NAMES = r"""
    {
      name: "dh-no-display-names",
      apply: "build",
      enforce: "pre",
      transform(code, id) {
        if (!/[\\/](app_components|utils[\\/]components|app[\\/]routes)[\\/]/.test(id)) return;
        return { code: code.replace(/^\w+\.displayName = "[^"\n]*";$/gm, ""), map: null };
      },
    },"""


def drop_display_names(code: str) -> str:
    return _patched(code, VITE_CONFIG_FILE, 'name: "dh-no-display-names"',
                    ("plugins: [", "plugins: [" + NO_DISPLAY_NAMES))


STATE_JS_FILE = "utils/state.js"
# Reflex's tab token (the key to the tab's server-side state) comes from Math.random mixed
# with the clock: guessable in principle. Ours comes from the browser's CSPRNG.
_UUID_START = "export const generateUUID = () => {"
_RANDOM_UUID = """export const generateUUID = () => {
  // Đồng Hành: a version 4 UUID from crypto.getRandomValues, the CSPRNG.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
"""


def use_random_tab_tokens(code: str) -> str:
    """Replace Reflex's `generateUUID` (Math.random) with one built on crypto.getRandomValues."""
    if "crypto.getRandomValues(new Uint8Array(16))" in code:
        return code
    start = code.find(_UUID_START)
    if start < 0 or code.count(_UUID_START) != 1:
        raise RuntimeError(f"{STATE_JS_FILE}: expected one {_UUID_START!r}")
    end = code.find("\n};\n", start)
    if end < 0:
        raise RuntimeError(f"{STATE_JS_FILE}: generateUUID has no end")
    return code[:start] + _RANDOM_UUID + code[end + len("\n};\n"):]


CONTEXT_REGISTRY_FILE = "utils/context-registry.js"
# Every component reads the server's state through `useStateContext`, a useSyncExternalStore
# hook: React renders a store's change at once and in one piece, never as a transition, so the
# page's data arriving after its first paint (Today's rows, a client's record) was one long task
# on a cheap phone (60-250 ms at 4x slowdown; Lighthouse's total blocking time, issue 20). Read
# through useDeferredValue, a change first re-renders with the values already shown (the React
# Compiler's memoised output: next to nothing), then React renders the new values in the
# background, in slices of a few milliseconds, letting a tap through in between. The first
# render (hydration) reads the store as before.
_STORE_IMPORT = "  useSyncExternalStore,\n} from \"react\";"
_STORE_IMPORT_DEFERRED = "  useDeferredValue,\n  useSyncExternalStore,\n} from \"react\";"
_STORE_READ = "return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);"
_STORE_READ_DEFERRED = (
    "// Đồng Hành: rendered in the background, in slices (app/frontend_build.py).\n"
    "  return useDeferredValue(useSyncExternalStore(subscribe, getSnapshot, getSnapshot));")


def defer_state_reads(code: str) -> str:
    """Wrap `useStateContext`'s store read in React's `useDeferredValue`."""
    return _patched(code, CONTEXT_REGISTRY_FILE, "useDeferredValue(useSyncExternalStore(",
                    (_STORE_IMPORT, _STORE_IMPORT_DEFERRED), (_STORE_READ, _STORE_READ_DEFERRED))


REACT_ROUTER_CONFIG_FILE = "react-router.config.js"
# A production build prerenders every page with a fixed address (Today, the sign-in page …):
# its HTML holds the page's frame (top bar, headings, labels, empty lists), which the phone
# paints before any code has run. A dynamic route (a client's page and its forms) had only the
# bare SPA fallback page, which paints nothing until the route's code has run and the data is
# in: a blank screen for seconds on a slow link (issue 20). Each dynamic route is prerendered
# once more, at an address with FRAME_SEGMENT for each of its dynamic segments
# (`/clients/_/visit`), and `app/api/route_shell.py` answers every address of the route with
# that frame. The frame is rendered from the state's initial values only, as every prerendered
# page is, so it hydrates at any address of the route.
FRAME_SEGMENT = "_"
_PRERENDER_ALL = '"prerender": true'


def frame_path(route: str) -> str | None:
    """The address at which a dynamic route's frame is prerendered: `route` (Reflex's
    `/clients/[client_id]/visit` or React Router's `clients/:client_id/visit`) with each dynamic
    segment as FRAME_SEGMENT. None for a route without one, or with a catch-all."""
    parts = [s for s in route.split("/") if s]
    if any(s == "*" or s.startswith(("[[", "[...")) for s in parts):
        return None
    dynamic = [s.startswith(":") or (s.startswith("[") and s.endswith("]")) for s in parts]
    if not any(dynamic):
        return None
    return "/" + "/".join(FRAME_SEGMENT if d else s for s, d in zip(parts, dynamic, strict=True))


def prerender_frames(code: str, routes: Iterable[str]) -> str:
    """React Router's config (`code`) prerendering the frames of the dynamic `routes` besides
    the static pages; as it is when it prerenders nothing (a development build)."""
    paths = sorted({p for p in map(frame_path, routes) if p})
    if not paths or _PRERENDER_ALL not in code:  # nothing to frame, or already done
        return code
    return _patched(code, REACT_ROUTER_CONFIG_FILE, "dhFrames", (
        _PRERENDER_ALL,
        '"prerender": async function dhFrames({ getStaticPaths }) { '
        f"return [...getStaticPaths(), ...{json.dumps(paths)}]; }}"))


def parse_route_manifest(text: str) -> dict[str, Any]:
    """The content of React Router's manifest file (`window.__reactRouterManifest={…};`).
    ValueError when it holds no JSON object."""
    manifest = json.loads(text[text.index("{"):text.rindex("}") + 1])
    if not isinstance(manifest, dict):
        raise ValueError("the route manifest is not an object")
    return manifest


def route_manifest(static_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """The build's React Router manifest (`assets/manifest-<hash>.js`, the newest when a folder
    holds several) and its content; None before a build."""
    found = sorted((static_dir / "assets").glob("manifest-*.js"), key=lambda f: f.stat().st_mtime)
    if not found:
        return None
    return found[-1], parse_route_manifest(found[-1].read_text())


def write_built(path: Path, text: str) -> None:
    """Rewrites a built file and its gzip copy; a copy in another encoding, which could not be
    remade here, is removed so that it never serves the old content."""
    path.write_text(text)
    for sidecar in path.parent.glob(path.name + ".*"):
        if sidecar.suffix == ".gz":
            sidecar.write_bytes(gzip.compress(text.encode(), 9, mtime=0))
        else:
            sidecar.unlink()


# A page's modules (React, Radix and the other shared libraries, Reflex's state, the route's
# components) come as one graph under React Router's inline module script, and the browser
# evaluates a graph in one task: 15-20 ms on this machine, 60-90 ms on a phone four times
# slower, the one long task left after the first paint (issue 20). A module script of their
# own for the libraries' chunk, ahead of it, is evaluated in a task of its own as soon as that
# chunk is in; the page's graph then finds it evaluated and runs the rest in a second task,
# and a tap or a paint can come in between. (A top-level await in Reflex's context registry
# splits the graph as well; this way no code of Reflex's changes, only the built pages.)
_ROUTER_MODULES = '<script type="module" async="">import "/assets/manifest-'


def libraries_first(html: str, src: str) -> str:
    """`html` with `<script type="module" async src=src>` just before React Router's module
    script; as it is when it has no such script (or already has this one)."""
    tag = f'<script type="module" async="" src="{src}"></script>'
    if tag in html or _ROUTER_MODULES not in html:
        return html
    if html.count(_ROUTER_MODULES) != 1:
        raise RuntimeError(f"expected one {_ROUTER_MODULES!r} in a page")
    return html.replace(_ROUTER_MODULES, tag + _ROUTER_MODULES, 1)


def shared_libraries(manifest: dict[str, Any]) -> str:
    """The URL of the `vendor` chunk (CHUNK_GROUPS) that every page's root imports."""
    root = next((r for r in manifest.get("routes", {}).values() if r.get("id") == "root"), {})
    found = [f for f in root.get("imports", []) if f.startswith("/assets/vendor-")]
    if len(found) != 1:
        raise RuntimeError(f"the root route imports {len(found)} vendor chunks, expected one")
    return str(found[0])


def evaluate_libraries_first(static_dir: Path) -> None:
    """Every built page (and its gzip copy) with the libraries' module script first."""
    built = route_manifest(static_dir)
    if built is None:
        return
    src = shared_libraries(built[1])
    for page in static_dir.rglob("*.html"):
        html = page.read_text()
        done = libraries_first(html, src)
        if done != html:
            write_built(page, done)


class LeanFrontendPlugin(Plugin):
    """The PostCSS trimming step and the grouping of shared JavaScript (see the module doc)."""

    def pre_compile(self, **context: Any) -> None:
        context["add_save_task"](lambda: (POSTCSS_PLUGIN_FILE, postcss_plugin_code()))
        context["add_modify_task"](POSTCSS_CONFIG_FILE, add_to_postcss_config)
        context["add_modify_task"](VITE_CONFIG_FILE, add_chunk_groups)
        context["add_modify_task"](VITE_CONFIG_FILE, drop_display_names)
        context["add_modify_task"](STATE_JS_FILE, use_random_tab_tokens)
        context["add_modify_task"](CONTEXT_REGISTRY_FILE, defer_state_reads)
        routes = [page.route for page in context["unevaluated_pages"]]
        context["add_modify_task"](REACT_ROUTER_CONFIG_FILE,
                                   functools.partial(prerender_frames, routes=routes))

    def post_build(self, **context: Any) -> None:
        evaluate_libraries_first(Path(context["static_dir"]))
