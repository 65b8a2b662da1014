"""The build-time trimming (app/frontend_build.py) fits Reflex's generated files and keeps its
promises about the app's source: every colour asked for is imported, no trimmed Radix
component or utility is used."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import reflex as rx

from app import frontend_build as fb
from app.components.client_cards import TONES

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "app").rglob("*.py"))

# Reflex names (rx.<name> or rx.<namespace>.<name>) of the Radix components trimmed away.
TRIMMED_REFLEX_NAMES = {
    "select", "tabs", "switch", "slider", "progress", "tooltip", "popover", "hover_card",
    "dropdown_menu", "context_menu", "data_list", "kbd", "inset", "radio", "radio_group",
    "radio_cards", "checkbox_cards", "checkbox_group", "segmented_control", "scroll_area",
    "skeleton", "tab_nav", "icon_button", "container", "section", "blockquote", "quote", "em",
    "theme_panel",
}


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in SOURCES]


def _rx_attribute_chain(node: ast.AST) -> list[str]:
    """['rx', 'text', 'em'] for `rx.text.em`; [] for anything not rooted at `rx`."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id == "rx":
        return ["rx", *reversed(parts)]
    return []


def test_the_postcss_step_goes_right_after_postcss_import_in_reflexs_config() -> None:
    from reflex_base.constants import Templates

    template = (Templates.Dirs.WEB_TEMPLATE / fb.POSTCSS_CONFIG_FILE).read_text()
    patched = fb.add_to_postcss_config(template)
    assert patched.index('"postcss-import"') < patched.index(fb.POSTCSS_PLUGIN_FILE) \
        < patched.index("autoprefixer")
    assert fb.add_to_postcss_config(patched) == patched


def test_the_vendor_group_goes_into_reflexs_vite_config() -> None:
    from reflex.config import get_config
    from reflex.utils.frontend_skeleton import _compile_vite_config

    code = _compile_vite_config(get_config())
    patched = fb.add_chunk_groups(code)
    assert patched.count('debugName: "vendor"') == 1
    assert patched.index('debugName: "vendor"') < patched.index('name: "reflex-env"')
    assert fb.add_chunk_groups(patched) == patched


def test_the_vendor_chunk_holds_the_libraries_two_pages_reach_a_lazy_import_is_its_pages() -> None:
    """The group's name function on a module graph: React (two pages) goes into `vendor`; the
    charts, which one page imports both statically and lazily, and jsQR (one page, lazily),
    stay with that page; the app's own modules are left to Reflex's groups and Rolldown."""
    import subprocess

    group = fb.CHUNK_GROUPS.strip().rstrip(",")
    graph = {  # module -> (importers, dynamic importers)
        "/w/node_modules/react/index.js": (["/w/app/routes/[today]._index.jsx",
                                            "/w/utils/state.js"], []),
        "/w/utils/state.js": (["/w/app/root.jsx", "/w/app/routes/[scan]._index.jsx"], []),
        "/w/node_modules/recharts/lib/index.js": (["/w/app_components/app/pages/reports.jsx"],
                                                  ["/w/app_components/app/pages/reports.jsx"]),
        "/w/node_modules/d3-scale/src/index.js": (["/w/node_modules/recharts/lib/index.js"], []),
        "/w/app_components/app/pages/reports.jsx": (["/w/app/routes/[reports]._index.jsx"], []),
        "/w/node_modules/jsqr/dist/jsQR.js": ([], ["/w/app_components/app/pages/scan.jsx"]),
        "/w/app_components/app/pages/scan.jsx": (["/w/app/routes/[scan]._index.jsx"], []),
    }
    script = (f"const g = {group};\nconst graph = {json.dumps(graph)};\n"
              "const ctx = {getModuleInfo: (id) => graph[id] ? {importers: graph[id][0], "
              "dynamicImporters: graph[id][1]} : {importers: [], dynamicImporters: []}};\n"
              "console.log(JSON.stringify(Object.keys(graph).map((id) => g.name(id, ctx))));")
    node = ROOT / ".tools" / "node_modules" / ".bin" / "node"
    done = subprocess.run([str(node), "-e", script], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == ["vendor", None, None, None, None, None, None]


def test_the_components_display_names_are_left_out_of_reflexs_production_build() -> None:
    """A plugin of its own in Reflex's Vite config, run before the JSX is compiled, which
    removes Reflex's `X.displayName = "…";` lines from the app's generated components only."""
    import json
    import subprocess

    from reflex.config import get_config
    from reflex.utils.frontend_skeleton import _compile_vite_config

    patched = fb.drop_display_names(_compile_vite_config(get_config()))
    assert patched.count('name: "dh-no-display-names"') == 1
    assert fb.drop_display_names(patched) == patched
    plugin = fb.NO_DISPLAY_NAMES.strip().rstrip(",")
    memo = ('const Bare_comp_1 = memo(({children}) => { return("x") });\n'
            'Bare_comp_1.displayName = "Bare";\nreturn Bare_comp_1;\n')
    script = (f"const p = {plugin};\nconst out = (id) => p.transform({json.dumps(memo)}, id);\n"
              "console.log(JSON.stringify([out('/w/app_components/app/pages/visit.jsx'),"
              " out('/w/node_modules/react/index.js')]));")
    node = ROOT / ".tools" / "node_modules" / ".bin" / "node"
    done = subprocess.run([str(node), "-e", script], capture_output=True, text=True, check=True)
    ours, library = json.loads(done.stdout)
    assert "displayName" not in ours["code"] and "return Bare_comp_1;" in ours["code"]
    assert library is None  # a library's own code is left as it is


def test_components_read_the_servers_state_deferred_in_reflexs_context_registry() -> None:
    """Reflex's own context-registry.js: `useStateContext` returns the store's value through
    useDeferredValue (a change is rendered in the background, in slices), nothing else."""
    from reflex_base.constants import Templates

    template = (Templates.Dirs.WEB_TEMPLATE / fb.CONTEXT_REGISTRY_FILE).read_text()
    patched = fb.defer_state_reads(template)
    hook = patched[patched.index("export function useStateContext"):]
    hook = hook[:hook.index("\n}\n")]
    assert "return useDeferredValue(useSyncExternalStore(subscribe, getSnapshot, " \
        "getSnapshot));" in hook
    assert "useDeferredValue,\n  useSyncExternalStore,\n} from \"react\";" in patched
    assert patched.replace(fb._STORE_IMPORT_DEFERRED, fb._STORE_IMPORT).replace(
        fb._STORE_READ_DEFERRED, fb._STORE_READ) == template
    assert fb.defer_state_reads(patched) == patched
    with pytest.raises(RuntimeError):
        fb.defer_state_reads("export function useStateContext() {}")


def test_the_dynamic_routes_frames_are_prerendered_besides_the_static_pages() -> None:
    """Reflex's own React Router config of a production build, patched: its `prerender` is a
    function returning the static pages (what `true` meant) and each dynamic route's frame
    address; a development build (no prerendering) is left alone."""
    import subprocess

    from reflex.utils.frontend_skeleton import _update_react_router_config
    from reflex_base.config import get_config

    routes = ["clients/[client_id]", "/clients/[client_id]/visit", "clients/new", "today",
              "docs/[[...rest]]", "/"]
    assert fb.frame_path("clients/:client_id/visit") == "/clients/_/visit"
    assert [fb.frame_path(r) for r in routes] == [
        "/clients/_", "/clients/_/visit", None, None, None, None]
    prod = _update_react_router_config(get_config(), prerender_routes=True)
    patched = fb.prerender_frames(prod, routes)
    assert fb.prerender_frames(patched, routes) == patched
    module = ROOT / "test-artifacts" / "react-router.config.mjs"
    module.parent.mkdir(exist_ok=True)
    module.write_text(patched)
    script = ("import(process.argv[1]).then(async (m) => console.log(JSON.stringify("
              "await m.default.prerender({getStaticPaths: () => ['/', '/today']}))));")
    node = ROOT / ".tools" / "node_modules" / ".bin" / "node"
    done = subprocess.run([str(node), "--input-type=module", "-e", script, str(module)],
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == ["/", "/today", "/clients/_", "/clients/_/visit"]
    dev = _update_react_router_config(get_config(), prerender_routes=False)
    assert fb.prerender_frames(dev, routes) == dev
    assert fb.prerender_frames(prod, ["today"]) == prod  # no dynamic route: nothing to add


PAGE = ('<head><link rel="modulepreload" href="/assets/vendor-Ab1.js"/></head><body><div>x</div>'
        '<script type="module" async="">import "/assets/manifest-9f.js";\n'
        'import * as route0 from "/assets/root-C1.js";</script></body>')
MANIFEST = {"routes": {"root": {"id": "root", "module": "/assets/root-C1.js", "imports": [
    "/assets/rolldown-runtime-X.js", "/assets/vendor-Ab1.js", "/assets/context-D.js"]}}}


def test_every_page_names_the_shared_libraries_in_a_module_script_ahead_of_its_own() -> None:
    """The libraries' chunk gets an async module script of its own just before React Router's
    (evaluated in a task of its own); once; pages without React Router's script are left."""
    src = fb.shared_libraries(MANIFEST)
    assert src == "/assets/vendor-Ab1.js"
    done = fb.libraries_first(PAGE, src)
    tag = '<script type="module" async="" src="/assets/vendor-Ab1.js"></script>'
    assert done == PAGE.replace('<script type="module" async="">', tag + '<script type="module" '
                                'async="">')
    assert fb.libraries_first(done, src) == done
    assert fb.libraries_first("<html>404</html>", src) == "<html>404</html>"
    with pytest.raises(RuntimeError):
        fb.libraries_first(PAGE + PAGE, src)
    with pytest.raises(RuntimeError):
        fb.shared_libraries({"routes": {"root": {"id": "root", "imports": []}}})


def test_the_built_pages_and_their_gzip_copies_are_rewritten(tmp_path: Path) -> None:
    import gzip

    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "manifest-9f.js").write_text(
        "window.__reactRouterManifest=" + json.dumps(MANIFEST) + ";")
    (tmp_path / "clients").mkdir()
    page = tmp_path / "clients" / "new.html"
    page.write_text(PAGE)
    page.with_name("new.html.gz").write_bytes(gzip.compress(PAGE.encode()))
    page.with_name("new.html.br").write_bytes(b"old")
    fb.evaluate_libraries_first(tmp_path)
    assert 'src="/assets/vendor-Ab1.js"></script><script type="module"' in page.read_text()
    assert gzip.decompress(page.with_name("new.html.gz").read_bytes()).decode() \
        == page.read_text()
    assert not page.with_name("new.html.br").exists()


def test_a_changed_config_fails_the_build_loudly() -> None:
    with pytest.raises(RuntimeError):
        fb.add_chunk_groups("export default {};")
    with pytest.raises(RuntimeError):
        fb.add_to_postcss_config("export default {plugins: {}};")


def test_the_postcss_plugin_gets_its_lists() -> None:
    code = fb.postcss_plugin_code()
    assert "__DH_CONFIG__" not in code
    assert '"unusedComponents": ["BaseMenu"' in code and '"colours": ["teal"' in code


RADIX_COLOURS = {
    "tomato", "red", "ruby", "crimson", "pink", "plum", "purple", "violet", "iris", "indigo",
    "blue", "cyan", "teal", "jade", "green", "grass", "brown", "orange", "sky", "mint", "lime",
    "yellow", "amber", "gold", "bronze", "gray", "mauve", "slate", "sage", "olive", "sand",
}


def test_every_colour_the_app_asks_for_is_imported() -> None:
    """Any Radix colour name in the source (a colour scheme, a tone, `var(--red-9)`) and the
    theme's accent must be among the imported colours."""
    colours = set(fb.COLOURS)
    assert set(TONES) <= colours
    used: set[str] = set()
    for path in [*SOURCES, ROOT / "rxconfig.py"]:
        text = path.read_text()
        used |= set(re.findall(r"var\(--([a-z]+)-a?\d", text)) & RADIX_COLOURS
        used |= {node.value for node in ast.walk(ast.parse(text))
                 if isinstance(node, ast.Constant) and node.value in RADIX_COLOURS}
    assert "teal" in used
    assert used - colours == set()


def test_the_root_theme_has_no_appearance_class_so_its_has_selectors_are_dropped() -> None:
    """The PostCSS step drops Radix's `:root:where(:has(.radix-themes[data-is-root-theme=true]
    :where(.light…)))` selectors as never matching: true only while the app's theme sets no
    appearance (the root theme then has no `light`/`dark` class)."""
    from rxconfig import config

    theme = config.plugins and next(
        (p for p in config.plugins if isinstance(p, rx.plugins.RadixThemesPlugin)), None)
    assert theme is not None and theme.theme is not None
    assert theme.theme.appearance is None
    assert not any(p.startswith("appearance") for p in theme.theme.render()["props"])
    code = fb.postcss_plugin_code()
    assert "rootThemeWithAppearance.test(selector)" in code
    source = re.search(r"const rootThemeWithAppearance = /(.*)/;", code)
    assert source is not None
    dropped = re.compile(source.group(1))
    # As Radix Themes 3 writes them in tokens/base.css.
    assert dropped.match(":root:where(:has(.radix-themes[data-is-root-theme='true']"
                         ":where(.light, .light-theme)))")
    assert not dropped.match(".radix-themes:where(.light, .light-theme)")
    assert not dropped.match(":root, .light, .light-theme")


def test_no_trimmed_radix_component_is_used() -> None:
    found = [f"{path.relative_to(ROOT)}:{node.lineno} {'.'.join(chain)}"
             for path, tree in _trees() for node in ast.walk(tree)
             if (chain := _rx_attribute_chain(node)) and chain[1:2] != ["el"]
             and set(chain[1:]) & TRIMMED_REFLEX_NAMES]
    assert found == [], "trimmed from the CSS by app/frontend_build.py (UNUSED_COMPONENTS)"


def test_no_radix_margin_or_padding_prop_and_no_size_per_breakpoint() -> None:
    found = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg in fb.UNUSED_UTILITIES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {kw.arg}=")
                if kw.arg == "size" and not isinstance(kw.value, (ast.Constant, ast.Name)):
                    if isinstance(kw.value, (ast.List, ast.Dict, ast.Call)):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} size per breakpoint")
    assert found == [], "use CSS (margin_top=...) and one size: see app/lean_radix.postcss.js"
