"""app/runtime.py, `respawn_crashed_workers`, on a real Granian supervisor.

Every worker is killed at once; the replacement of one of them meets a passing fault while it
starts (its ASGI lifespan start-up fails, as when Redis or the database is busy for a moment)
and exits within Granian's 5.5 s. Granian alone calls that a crash loop and stops the whole
server; with the patch the worker is respawned again and the server keeps serving. A worker
that keeps failing still ends the server: a broken deployment must not loop forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.server import free_port

ROOT = Path(__file__).resolve().parents[2]

# The app: its lifespan start-up fails while `faults` (a file holding a number) is above 0,
# one failure per start; otherwise it answers "ok".
APP = textwrap.dedent('''
    from pathlib import Path
    FAULTS = Path(__file__).with_name("faults")

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    left = int(FAULTS.read_text() or 0)
                    if left > 0:
                        FAULTS.write_text(str(left - 1))
                        await send({"type": "lifespan.startup.failed", "message": "busy"})
                        return
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
''')

# The supervisor as the app's servers build it: rxconfig's patch first, then Granian.
LAUNCH = textwrap.dedent('''
    import sys
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    from app.runtime import respawn_crashed_workers
    respawn_crashed_workers()
    from granian.server import Server
    Server("faulty:app", address="127.0.0.1", port=int(sys.argv[3]), interface="asgi",
           workers=2).serve()
''')


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            return r.read() == b"ok"
    except OSError:
        return False


@contextmanager
def _supervisor(tmp_path: Path, respawn: str = "true") -> Iterator[tuple[subprocess.Popen[bytes],
                                                                          int, Path]]:
    (tmp_path / "faulty.py").write_text(APP)
    faults = tmp_path / "faults"
    faults.write_text("0")
    port = free_port()
    env = {**os.environ, "GRANIAN_RESPAWN_FAILED_WORKERS": respawn}
    log = tmp_path / "granian.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", LAUNCH, str(ROOT), str(tmp_path),
                                 str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (_answers(port) and len(_children(proc.pid)) == 2):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield proc, port, faults
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _kill_every_worker(proc: subprocess.Popen[bytes]) -> set[int]:
    workers = _children(proc.pid)
    assert len(workers) == 2
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    return workers


def test_a_replacement_that_fails_once_while_starting_does_not_stop_the_server(
    tmp_path: Path,
) -> None:
    with _supervisor(tmp_path) as (proc, port, faults):
        faults.write_text("1")
        killed = _kill_every_worker(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the supervisor stopped the whole server"
            now = _children(proc.pid)
            if faults.read_text() == "0" and len(now) == 2 and not now & killed and _answers(port):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the workers were not replaced")
        time.sleep(1)
        assert proc.poll() is None and _answers(port)


def test_a_worker_that_keeps_failing_still_ends_the_server(tmp_path: Path) -> None:
    with _supervisor(tmp_path) as (proc, _port, faults):
        faults.write_text("1000")
        _kill_every_worker(proc)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            pytest.fail("a worker failing at every start kept the server looping:\n"
                        + (tmp_path / "granian.log").read_text()[-3000:])
        assert int(faults.read_text()) > 1000 - 20  # a few tries, not an endless loop
