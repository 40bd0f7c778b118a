"""A store holding the demo issue recorded on two days, and a config with a [web] table: what the
web tests archive, serve and open in a browser.

    cfg = web_config(tmp_path, base_url="https://news.example.org/brief/", archive="site")
    store = demo_store(cfg)          # two recorded issues: 25 and 26 November 2026
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import uvicorn
from email_demo import DEMO_MORNING, REPO, demo_email
from newsletter.config import Config, load_config
from newsletter.render import issue_document
from newsletter.store import Store

SECRET = "test-secret-0123456789abcdef"  # the tokens' key in every web test
DAYS = 2


def web_config(tmp: Path, **web) -> Config:
    """The demo config in ``tmp``, with ``[web]`` set to ``web`` (TOML strings, numbers, booleans)."""
    shutil.copytree(REPO / "config", tmp / "config", dirs_exist_ok=True)
    path = tmp / "config" / "newsletter.toml"
    lines = [f"{k} = {json.dumps(v)}" for k, v in web.items()]
    path.write_text(path.read_text(encoding="utf-8") + "\n[web]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return load_config(path)


def record_demo_issues(cfg: Config, store: Store, days: int = DAYS, *, document: dict | None = None) -> list[str]:
    """The demo issue recorded once a day from 25 November 2026 on; returns their keys, oldest first."""
    email = demo_email()
    base = document or issue_document(email.issue)
    keys = []
    for n in range(days):
        day = email.issue.date + timedelta(days=n)
        key = f"{cfg.newsletter.title}:{day.isoformat()}"
        store.record_issue(key, created_at=DEMO_MORNING + timedelta(days=n), subject=email.subject,
                           document={**base, "date": day.isoformat()}, html=email.html, text=email.text,
                           placements=[])
        keys.append(key)
    return keys


def demo_store(cfg: Config) -> Store:
    store = Store.open(cfg.store_url)
    record_demo_issues(cfg, store)
    return store


@contextlib.contextmanager
def served(app, *, timeout: float = 30) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread for the block; yields its base URL."""
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:  # a state, not a guess at how long startup takes
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
