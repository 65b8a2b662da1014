"""The app shell of a dynamic route names its route's code (app/api/route_shell.py, issue 20)."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient

from app.api.route_shell import route_files, route_shell

ENTRY = ["/assets/entry.client-E.js", "/assets/vendor-V.js"]
ROOT = ["/assets/root-R.js", "/assets/context-C.js"]
VISIT = "/assets/_clients_.__client_id_._visit_._index-X.js"
CLIENT = "/assets/_clients_.__client_id_._index-Y.js"
FRAME = "/assets/frame-F.js"


def _route(rid: str, path: str, module: str, imports: list[str]) -> dict[str, object]:
    return {"id": rid, "path": path, "module": module, "imports": imports, "css": []}


MANIFEST = {
    "entry": {"module": ENTRY[0], "imports": ENTRY[1:], "css": []},
    "routes": {
        "root": _route("root", "", ROOT[0], [ENTRY[1], *ROOT[1:]]),
        "today": _route("today", "today", "/assets/_today_._index-T.js", [ENTRY[1], FRAME]),
        "clients/new": _route("clients/new", "clients/new", "/assets/new-N.js", [FRAME]),
        "client": _route("client", "clients/:client_id", CLIENT, [ENTRY[1], FRAME]),
        "visit": _route("visit", "clients/:client_id/visit", VISIT,
                        [ENTRY[1], "/assets/context-C.js", FRAME]),
        "404": _route("404", "*", "/assets/_404_-Z.js", []),
    },
}
FALLBACK = (
    '<!DOCTYPE html><html lang="vi"><head><meta charSet="utf-8"/>'
    '<link rel="modulepreload" href="/assets/manifest-abc123.js"/>'
    + "".join(f'<link rel="modulepreload" href="{f}"/>' for f in [*ENTRY, *ROOT])
    + '<script defer="" src="/device/app.js"></script></head><body><div></div>'
    '<script type="module" async="">import "/assets/manifest-abc123.js";\n'
    f'import * as route0 from "{ROOT[0]}";</script></body></html>'
)


def _build(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "manifest-abc123.js").write_text(
        "window.__reactRouterManifest=" + json.dumps(MANIFEST) + ";")
    (tmp_path / "__spa-fallback.html").write_text(FALLBACK)
    return tmp_path


def _client(folder: Path) -> TestClient:
    async def reflex(scope, receive, send):  # what Reflex's static server would answer
        await PlainTextResponse("reflex " + scope["path"], status_code=404)(scope, receive, send)

    return TestClient(route_shell(reflex, folder=lambda: folder))


def _preloads(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('<link rel="modulepreload" href="')[1:]]


def test_the_shell_of_a_visit_form_names_its_route_module_and_imports(tmp_path: Path) -> None:
    client = _client(_build(tmp_path))
    answer = client.get("/clients/12/visit")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    preloads = _preloads(html)
    assert VISIT in preloads and FRAME in preloads
    assert CLIENT not in preloads and "/assets/_today_._index-T.js" not in preloads
    # Each file once; the entry's own preloads come first, then the route's module.
    assert len(preloads) == len(set(preloads))
    assert preloads.index(ENTRY[0]) < preloads.index(VISIT) < preloads.index(FRAME)
    # The rest of the page is the fallback page unchanged (no script added: the CSP holds).
    assert html.replace(f'<link rel="modulepreload" href="{VISIT}"/>', "").replace(
        f'<link rel="modulepreload" href="{FRAME}"/>', "") == FALLBACK
    assert html.count("<script") == FALLBACK.count("<script")


def test_the_client_page_gets_its_own_module(tmp_path: Path) -> None:
    preloads = _preloads(_client(_build(tmp_path)).get("/clients/7").text)
    assert CLIENT in preloads and VISIT not in preloads


def test_other_addresses_go_to_reflex_as_before(tmp_path: Path) -> None:
    client = _client(_build(tmp_path))
    for path in ("/nothing/here", "/clients/12/visit/more", "/today", "/clients/new",
                 "/clients/", "/__spa-fallback.html", "/assets/frame-F.js", "/api/x"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.text == "reflex " + path, path
    assert client.post("/clients/12/visit").text == "reflex /clients/12/visit"


def test_no_build_means_reflex_answers(tmp_path: Path) -> None:
    assert _client(tmp_path).get("/clients/12/visit").text == "reflex /clients/12/visit"


def test_gzip_etag_and_revalidation(tmp_path: Path) -> None:
    client = _client(_build(tmp_path))
    answer = client.get("/clients/12/visit", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["vary"] == "Accept-Encoding"
    etag = answer.headers["etag"]
    plain = client.get("/clients/99/visit", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert answer.text == plain.text.replace("/99/", "/12/")  # the same page, unzipped
    assert plain.headers["etag"] == etag  # same route, same page, whichever client
    again = client.get("/clients/12/visit", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_a_new_build_is_read_again(tmp_path: Path) -> None:
    folder = _build(tmp_path)
    client = _client(folder)
    assert VISIT in client.get("/clients/12/visit").text
    manifest = json.loads(json.dumps(MANIFEST))
    manifest["routes"]["visit"]["module"] = "/assets/visit-NEW.js"
    (folder / "assets" / "manifest-def456.js").write_text(
        "window.__reactRouterManifest=" + json.dumps(manifest) + ";")
    (folder / "__spa-fallback.html").write_text(FALLBACK.replace("abc123", "def456") + " ")
    assert "/assets/visit-NEW.js" in client.get("/clients/12/visit").text


def test_route_files_prefers_fixed_addresses() -> None:
    assert route_files(MANIFEST, "/clients/new") is None
    assert route_files(MANIFEST, "/clients/12/visit") == [VISIT, ENTRY[1],
                                                          "/assets/context-C.js", FRAME]
    assert route_files(MANIFEST, "/anything") is None


# A build with the frames of its dynamic routes prerendered (frontend_build.prerender_frames).
VISIT_FRAME = (
    '<!DOCTYPE html><html lang="vi"><head><meta charSet="utf-8"/>'
    '<link rel="modulepreload" href="/assets/manifest-abc123.js"/>'
    + "".join(f'<link rel="modulepreload" href="{f}"/>' for f in [*ENTRY, *ROOT, VISIT])
    + '</head><body><div class="dh-frame"><h1>Ghi lần thăm</h1><form id="visit-form">'
    '</form></div></body></html>'
)


def test_a_dynamic_route_with_a_prerendered_frame_is_answered_with_it(tmp_path: Path) -> None:
    folder = _build(tmp_path)
    (folder / "clients" / "_" / "visit").mkdir(parents=True)
    (folder / "clients" / "_" / "visit" / "index.html").write_text(VISIT_FRAME)
    client = _client(folder)
    for path in ("/clients/12/visit", "/clients/4242/visit/"):
        html = client.get(path).text
        assert '<form id="visit-form">' in html, path
        preloads = _preloads(html)
        # The frame's own preloads, and those of the route's imports it lacked, each once.
        assert VISIT in preloads and FRAME in preloads
        assert len(preloads) == len(set(preloads))
        assert html.replace(f'<link rel="modulepreload" href="{FRAME}"/>', "") == VISIT_FRAME
    # A route without a frame in this build still gets the fallback page with its preloads.
    client_page = client.get("/clients/12").text
    assert client_page.startswith(FALLBACK[:60]) and CLIENT in _preloads(client_page)
    # The page a device downloads for offline use is unchanged: the fallback page.
    assert client.get("/__spa-fallback.html").text == "reflex /__spa-fallback.html"


def test_frame_file_follows_the_route_pattern(tmp_path: Path) -> None:
    from app.api.route_shell import frame_file

    (tmp_path / "clients" / "_").mkdir(parents=True)
    (tmp_path / "clients" / "_" / "index.html").write_text("frame")
    assert frame_file(tmp_path, {"path": "clients/:client_id"}) == \
        tmp_path / "clients" / "_" / "index.html"
    assert frame_file(tmp_path, {"path": "clients/:client_id/visit"}) is None  # not built
    assert frame_file(tmp_path, {"path": "today"}) is None  # not a dynamic route
    assert frame_file(tmp_path, {"path": "*"}) is None
