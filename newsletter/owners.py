"""Who holds a claim in the store (an issue being built, a recipient being sent), and whether they are gone.

    owner = process_owner()     # "machine:pid:thread"
    owner_gone(owner)           # True once that process no longer runs on this machine

The machine is the host name and, on Linux, the process's pid namespace ("mail-1/4026531836"): containers
on the host's network share its name, and a pid names a process only within its own namespace. Without
the namespace, a container asking about a claim of another one's pid 7 found no pid 7 of its own, took
the claim for abandoned, and sent again.
"""

from __future__ import annotations

import os
import socket
import threading
from functools import cache


@cache
def machine() -> str:
    """Where a pid means one process: the host name, and the pid namespace where Linux has one."""
    host = socket.gethostname()
    try:
        ns = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return host
    return f"{host}/{ns[5:-1]}" if ns.startswith("pid:[") and ns.endswith("]") else host


def host_of(owner: str) -> str:
    """The host name an owner names, for people (without the namespace)."""
    return owner.partition(":")[0].partition("/")[0]


def process_owner() -> str:
    """Who holds a claim: machine:pid:thread, so a restart on this machine can tell whether the holder is gone."""
    return f"{machine()}:{os.getpid()}:{threading.get_ident()}"


def owner_gone(owner: str | None) -> bool:
    """Whether a claim's owner was a process on this machine that no longer runs. Unknown owners (an
    older row, another host or container) are never presumed gone: their claim waits for CLAIM_LEASE."""
    where, _, rest = (owner or "").partition(":")
    pid = rest.partition(":")[0]
    if where != machine() or not pid.isdigit():
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
