"""Whether the folders a send writes can be written: the SQLite store's and the outbox's; and
writing a file whole or not at all.

    for problem in folder_problems(cfg):      # ConfigErrors naming [store] url, [delivery] outbox
        ...
    write_whole(path, data)                    # a reader never sees half of it, a full disk leaves the old

``check`` asks this so that it does not say "config ok" for a config whose first ``send``
stops on ``/proc/nope/x.db``. Writing is tried, not asked of ``os.access``: root passes every
access check, yet /proc, a read-only mount or a full disk still refuse. Nothing stays behind: a
temporary file (or, where the folder does not exist yet, a temporary folder in the one it would
go in) is made and removed again, so no later run finds a store or a message that check made.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from newsletter.config import Config
from newsletter.errors import ConfigError

_PROBE = ".newsletter-check-"


def unwritable(folder: Path) -> str | None:
    """Why files cannot be made in ``folder`` (made first if missing, as a send does), or None."""
    existing = folder
    try:
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            return f"{existing} is a file, not a folder"
        if existing == folder:
            fd, probe = tempfile.mkstemp(dir=folder, prefix=_PROBE)
            os.close(fd)
            os.unlink(probe)
        else:  # the folders a send would make: the first of them, made and removed
            os.rmdir(tempfile.mkdtemp(dir=existing, prefix=_PROBE))
    except OSError as e:
        return f"cannot create {'a file' if existing == folder else 'a folder'} in {existing}: " \
               f"{e.__class__.__name__}: {e.strerror or e}"
    return None


def _unopenable(store: Path) -> str | None:
    """Why an existing store file cannot be opened for writing (opened and closed: nothing changes)."""
    if not store.is_file():
        return None
    try:
        with open(store, "r+b"):
            pass
    except OSError as e:
        return f"cannot open it for writing: {e.__class__.__name__}: {e.strerror or e}"
    return None


def folder_problems(cfg: Config) -> list[ConfigError]:
    """One ConfigError per folder a send needs and could not write; none for a server's database
    (check stays offline) or for an outbox the SMTP transport does not use."""
    problems = []
    store = cfg.store_file
    if store is not None:
        why = f"{store} is a folder, not a file" if store.is_dir() else unwritable(store.parent) or _unopenable(store)
        if why:
            problems.append(ConfigError(cfg.path, "[store] url", f"cannot make the store {store} ({why}).",
                                        "give a path in a folder this user can write (a relative path is "
                                        "read from the config file's folder)."))
    if cfg.delivery.transport == "file" and (why := unwritable(cfg.outbox)):
        problems.append(ConfigError(cfg.path, "[delivery] outbox", f"cannot write to the outbox {cfg.outbox} "
                                    f"({why}).", "set [delivery] outbox to a folder you can write (a relative "
                                    "path is read from the config file's folder)."))
    return problems


def write_whole(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Temp file, fsync, rename: a reader never sees half a file, and a write that fails (a full disk)
    leaves the file as it was, not empty. An unchanged file is left alone, mtime and all."""
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes it private; a web server must read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
