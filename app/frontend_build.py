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
  receives is drawn in slices rather than in one long task.

Nothing here changes what the pages show; `tests/unit/test_frontend_build.py` keeps the lists
below honest against the source.
"""

from __future__ import annotations

import json
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


# Rolldown code-splitting groups, put before Reflex's own: the libraries two or more pages share
# (React, Radix, Emotion, Socket.IO, the shared icons, …) in one file rather than dozens.
# A library only one page uses (jsQR on /scan, charts on /reports) keeps its own file.
CHUNK_GROUPS = r"""
            {
              name: "vendor",
              test: /[\\/]node_modules[\\/]/,
              minShareCount: 2,
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
    return _patched(code, VITE_CONFIG_FILE, 'name: "vendor"',
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


class LeanFrontendPlugin(Plugin):
    """The PostCSS trimming step and the grouping of shared JavaScript (see the module doc)."""

    def pre_compile(self, **context: Any) -> None:
        context["add_save_task"](lambda: (POSTCSS_PLUGIN_FILE, postcss_plugin_code()))
        context["add_modify_task"](POSTCSS_CONFIG_FILE, add_to_postcss_config)
        context["add_modify_task"](VITE_CONFIG_FILE, add_chunk_groups)
        context["add_modify_task"](VITE_CONFIG_FILE, drop_display_names)
        context["add_modify_task"](STATE_JS_FILE, use_random_tab_tokens)
        context["add_modify_task"](CONTEXT_REGISTRY_FILE, defer_state_reads)
