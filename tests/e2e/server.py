"""Start the real app (production build, one port) as a subprocess for browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_env(db_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REFLEX_DB_URL=db_url,
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        PATH=f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{BIN}:{env.get('PATH', '')}",
    )
    env.pop("REFLEX_REDIS_URL", None)
    env.update(extra)
    return env


def prepare_database(env: dict[str, str]) -> None:
    for cmd in (["migrate"], ["seed-demo"]):
        subprocess.run([str(BIN / "python"), "-m", "app.cli", *cmd], cwd=ROOT, env=env, check=True)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"app exited early ({proc.returncode}); see {log}:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url + "ping", timeout=2) as r:
                if r.status == 200:
                    with urllib.request.urlopen(url, timeout=5) as page:
                        if page.status == 200:
                            return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"app not ready after {timeout}s; see {log}:\n{log.read_text()[-3000:]}")


@dataclass(frozen=True)
class RunningApp:
    url: str
    pid: int
    log: Path | None = None

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's own log (what Granian and the app printed), for a failure
        message: a server that died in CI leaves nothing else behind."""
        if self.log is None or not self.log.exists():
            return "(no server log)"
        return self.log.read_text(errors="replace")[-chars:]

    def process_tree(self) -> list[int]:
        """PIDs of the server process and all its descendants (the backend workers)."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        tree, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        return tree


@contextmanager
def running_app(
    env: dict[str, str], *, name: str = "app", timeout: float = 420, own_build: bool = False
) -> Iterator[RunningApp]:
    """Serve the production build on a free port; yield where it runs; stop it afterwards.

    The build bakes its server's port into the page's websocket address. A server started
    while another one still runs (the suite's shared one) therefore builds into a folder of
    its own (`own_build`): rebuilding the shared `.web` would point every later page of the
    other server at this one's port, long after it stopped.
    """
    port = free_port()
    if own_build:
        env = {**env, "REFLEX_WEB_WORKDIR": str(ROOT / f".web-{name}")}
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"{name}-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(BIN / "reflex"),
                "run",
                "--env",
                "prod",
                "--single-port",
                "--backend-port",
                str(port),
                "--loglevel",
                "info",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            _wait_ready(url, proc, log, timeout)
            yield RunningApp(url=url, pid=proc.pid, log=log)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
