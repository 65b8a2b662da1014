"""The service worker's pack of build files (`GET /device/pack`): the files asked for, whole,
in one gzip answer; nothing outside the build's /assets/ folder."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.api import api_app, device_pack


@pytest.fixture
def assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "build" / "client" / "assets"
    folder.mkdir(parents=True)
    (folder / "_visit_-A1.js").write_text("export const v = `Ghi lần thăm`;\n")
    (folder / "_test_-B2.js").write_text("export const t = 2;\n")
    (folder / "root-C3.css").write_text(".x{color:red}")
    (tmp_path / "build" / "client" / "secret.js").write_text("not an asset")
    (tmp_path / "build" / "client" / "__spa-fallback.html").write_text("<!DOCTYPE html>Đồng Hành")
    monkeypatch.setattr(device_pack, "assets_dir", lambda: folder)
    device_pack.packed.cache_clear()
    return folder


def _files(body: bytes, query: str) -> dict[str, bytes]:
    """The files of a pack by name: its first line holds their lengths in the order asked."""
    index_line, rest = body.split(b"\n", 1)
    names = list(dict.fromkeys(query.split(",")))
    lengths = json.loads(index_line)
    assert len(lengths) == len(names)
    out, at = {}, 0
    for name, length in zip(names, lengths, strict=True):
        if length is not None:
            out[name] = rest[at:at + length]
            at += length
    assert at == len(rest)
    return out


def test_the_files_asked_for_come_whole_in_one_gzip_answer(assets: Path) -> None:
    with TestClient(api_app()) as client:
        resp = client.get("/device/pack?f=_visit_-A1.js,root-C3.css,_test_-B2.js",
                          headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200
    assert resp.headers["content-encoding"] == "gzip"
    # The test client has already undone the gzip.
    files = _files(resp.content, "_visit_-A1.js,root-C3.css,_test_-B2.js")
    assert list(files) == ["_visit_-A1.js", "root-C3.css", "_test_-B2.js"]
    assert files["_visit_-A1.js"] == (assets / "_visit_-A1.js").read_bytes()
    assert gzip.decompress(device_pack.packed(assets, ("_test_-B2.js",))[1]).startswith(b"[20]\n")


def test_the_spa_fallback_page_comes_in_the_same_answer_and_nothing_else_beside_the_assets(
    assets: Path,
) -> None:
    with TestClient(api_app()) as client:
        resp = client.get("/device/pack?f=_test_-B2.js,__spa-fallback.html")
        other = client.get("/device/pack?f=_test_-B2.js,secret.js")
    files = _files(resp.content, "_test_-B2.js,__spa-fallback.html")
    assert list(files) == ["_test_-B2.js", "__spa-fallback.html"]
    assert files["__spa-fallback.html"] == (assets.parent / "__spa-fallback.html").read_bytes()
    # secret.js is not in /assets/
    assert list(_files(other.content, "_test_-B2.js,secret.js")) == ["_test_-B2.js"]


def test_an_unknown_file_is_left_out_for_the_worker_to_fetch_alone(assets: Path) -> None:
    with TestClient(api_app()) as client:
        resp = client.get("/device/pack?f=gone-Z9.js,_test_-B2.js")
    assert resp.content.startswith(b"[null,20]\n")
    assert list(_files(resp.content, "gone-Z9.js,_test_-B2.js")) == ["_test_-B2.js"]


@pytest.mark.parametrize("query", ["", "f=", "f=../secret.js", "f=..%2Fsecret.js",
                                   "f=%2Fetc%2Fpasswd", "f=a.py",
                                   "f=__spa-fallback.htm", "f=..%2F__spa-fallback.html",
                                   "f=" + ",".join(f"x{i}.js" for i in range(65))])
def test_nothing_outside_the_build_assets_is_served(assets: Path, query: str) -> None:
    with TestClient(api_app()) as client:
        resp = client.get(f"/device/pack?{query}")
    assert resp.status_code == 400
    assert b"not an asset" not in resp.content


def test_one_request_asks_only_bounded_work(assets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device_pack, "MAX_BYTES", 40)
    with TestClient(api_app()) as client:
        resp = client.get("/device/pack?f=_visit_-A1.js,_test_-B2.js,root-C3.css")
    assert list(_files(resp.content, "_visit_-A1.js,_test_-B2.js,root-C3.css")) == [
        "_visit_-A1.js"]  # the others: one by one


def test_with_the_workers_own_files_as_dictionary_the_pack_is_deflate_made_with_them(
    assets: Path,
) -> None:
    """`d=`/`p=`: what the worker holds of the screen the phone opened (its build files, its
    page); their last 32 KB are deflate's preset dictionary (pack.js inflateWith puts them back
    in front), if `h` is that dictionary's hash. Anything else is refused: the worker then asks
    without a dictionary."""
    import zlib

    shared = "export const field = () => jsx(Label, {className: `dh-label`}, `Ghi lần thăm`);\n"
    (assets / "_today_-D4.js").write_text(shared * 30)
    (assets / "_visit_-A1.js").write_text(shared * 3 + "export const v = 1;\n")
    (assets.parent / "today").mkdir()
    (assets.parent / "today" / "index.html").write_text("<!DOCTYPE html>Đồng Hành" * 9)
    zdict = device_pack.dictionary(assets, ("_today_-D4.js",), "/today/")
    assert zdict == ((assets / "_today_-D4.js").read_bytes()
                     + (assets.parent / "today" / "index.html").read_bytes())
    h = device_pack.dictionary_hash(zdict)
    query = "_visit_-A1.js,__spa-fallback.html"
    with TestClient(api_app()) as client:
        resp = client.get(f"/device/pack?f={query}&d=_today_-D4.js&p=%2Ftoday%2F&h={h}")
        plain = client.get(f"/device/pack?f={query}", headers={"Accept-Encoding": "gzip"})
        for refused in (f"d=_today_-D4.js&p=%2Ftoday%2F&h={'0' * 16}", f"d=nope-Z9.js&h={h}",
                        f"d=__spa-fallback.html&h={h}", f"d=..%2Fsecret.js&h={h}",
                        f"p=%2F..%2Fsecret.js&h={h}", f"p=%2Fnowhere%2F&h={h}", f"h={h}"):
            assert client.get(f"/device/pack?f={query}&{refused}").status_code == 400, refused
    assert resp.status_code == 200 and "content-encoding" not in resp.headers
    inflater = zlib.decompressobj(-15, zdict=zdict)
    body = inflater.decompress(resp.content) + inflater.flush()
    assert _files(body, query) == _files(plain.content, query)
    assert len(resp.content) < len(device_pack.packed(assets, tuple(query.split(",")))[1])
