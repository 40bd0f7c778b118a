"""Who holds a claim in the store (an issue being built, a recipient being sent), and whether they are gone.

    owner = process_owner()     # "host:pid:thread"
    owner_gone(owner)           # True once that process no longer runs on this host
"""

from __future__ import annotations

import os
import socket
import threading


def process_owner() -> str:
    """Who holds a claim: host:pid:thread, so a restart on this host can tell whether the holder is gone."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def owner_gone(owner: str | None) -> bool:
    """Whether a claim's owner was a process on this host that no longer runs. Unknown owners (an
    older row, another host) are never presumed gone: their claim waits for CLAIM_LEASE."""
    host, _, rest = (owner or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False  # this process: another of its threads holds it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False
