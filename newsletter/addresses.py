"""Email addresses from a config or a command line: checked, normalised, each mailbox once.

    >>> mailbox(" Reader <Reader@Example.ORG> ")
    ('Reader <Reader@example.org>', 'reader@example.org')
    >>> unique_mailboxes(["a@x", "a@x", "A@X", " a@x"])
    ['a@x']
    >>> mailbox_key("Reader <Reader@Example.ORG>")
    'reader@example.org'

Surrounding spaces go and the domain is lower-cased (domains are case-blind).
Local parts may be case-sensitive by the letter of RFC 5321, but no mail system
in use treats Reader@ and reader@ as two people, so the key that says which
mailbox an address is folds their case too: two spellings of one mailbox get
one copy, and the first spelling given is the one kept. The same key is what
a day's deliveries are recorded by, so it holds across sends too: `--to
"Eve <eve@x.example>"` after a send to `eve@x.example` finds her served.
"""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.utils import getaddresses, parseaddr

from newsletter.controls import has_controls

_LOCAL_PART = re.compile(r'[^\s@"(),:;<>\[\\\].]+(?:\.[^\s@"(),:;<>\[\\\].]+)*')  # a dot-atom; quoted forms refused
_DOMAIN = re.compile(r"[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*")
ADDRESS_FIX = "write one address per entry, e.g. 'reader@example.org' or 'Reader <reader@example.org>'."


class AddressError(ValueError):
    """Not one usable address: ``value`` as given, ``problem`` says why, ``fix`` what to write instead."""

    def __init__(self, problem: str, fix: str = ADDRESS_FIX, value: str | None = None):
        super().__init__(problem)
        self.problem, self.fix, self.value = problem, fix, value


def mailbox(value: str) -> tuple[str, str]:
    """One address, normalised, and the key that says which mailbox it is."""
    if has_controls(value):  # CR and LF above all: a header injection
        raise AddressError("contains a line break or another control character", value=value)
    text = value.strip()
    name, spec = parseaddr(text)
    local, _, domain = spec.rpartition("@")
    whole = text == spec or text.endswith(f"<{spec}>")  # parseaddr quietly drops what it cannot read
    if not (whole and len(getaddresses([text])) == 1 and _LOCAL_PART.fullmatch(local) and _DOMAIN.fullmatch(domain)):
        raise AddressError("is not one email address", value=value)
    return str(Address(display_name=name, username=local, domain=domain.lower())), _key(local, domain)


def mailbox_key(address: str) -> str:
    """Which mailbox an address already checked by ``mailbox`` is: its addr-spec, case-folded. What
    deliveries are recorded by, whatever the display name or the case a send was given."""
    spec = parseaddr(address)[1] or address.strip()
    local, _, domain = spec.rpartition("@")
    return _key(local, domain)


def _key(local: str, domain: str) -> str:
    return f"{local.casefold()}@{domain.lower()}"


def unique_mailboxes(addresses: list[str]) -> list[str]:
    """Each address normalised, each mailbox once, in the order given; raises AddressError on the first bad one."""
    by_key: dict[str, str] = {}
    for address in addresses:
        shown, key = mailbox(address)
        by_key.setdefault(key, shown)
    return list(by_key.values())
