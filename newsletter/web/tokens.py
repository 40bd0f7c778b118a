"""Unsubscribe tokens: an HMAC of the newsletter and the address, keyed by a secret from the environment.

    token = unsubscribe_token(secret, "The Meridian Brief", "ann@example.org")
    who = TokenIndex(secret, "The Meridian Brief").owner(token, candidates)   # the address, or None

The token names no one: the app finds whose it is among the tokens of the addresses it knows
(the config's recipients and everyone an issue was owed to). A forged, shortened or other
newsletter's token matches none of them; guessing one means guessing a 256-bit HMAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from collections.abc import Iterable
from dataclasses import replace
from email.utils import parseaddr

from newsletter import variables
from newsletter.config import Config
from newsletter.errors import ConfigError
from newsletter.models import RenderedEmail

MIN_SECRET_CHARS = 16  # shorter keys are guessable; `python -c 'import secrets; print(secrets.token_urlsafe())'`


def address_key(address: str) -> str:
    """The bare lower-cased address a token and the store name ("Ann <Ann@X.org>" -> "ann@x.org").
    parseaddr, not the full header parser: the app reads every recipient's on each request, and
    the addresses were checked when the config was loaded."""
    return (parseaddr(address)[1] or address).strip().lower()


def split_unsubscribed(to: Iterable[str], gone: set[str]) -> tuple[list[str], list[str]]:
    """``to`` as those still subscribed and those who left by a one-click link (``gone``: the store's
    ``unsubscribed`` keys): what a send serves, and what it skips."""
    kept, left = [], []
    for r in to:
        (left if address_key(r) in gone else kept).append(r)
    return kept, left


def unsubscribe_token(secret: str, newsletter: str, address: str) -> str:
    digest = hmac.new(secret.encode(), f"unsubscribe\n{newsletter}\n{address_key(address)}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class TokenIndex:
    """Token -> address over the addresses a token could have gone to, rebuilt only when they change:
    a request costs a set comparison and a dict lookup, not an HMAC per recipient (10,000 of them
    took 0.35 s)."""

    def __init__(self, secret: str, newsletter: str):
        self._secret, self._newsletter = secret, newsletter
        self._lock = threading.Lock()
        self._built: tuple[frozenset[str], dict[str, str]] = (frozenset(), {})

    def owner(self, token: str, candidates: Iterable[str]) -> str | None:
        """The address whose token this is, or None."""
        key = frozenset(candidates)
        with self._lock:
            if self._built[0] != key:
                self._built = (key, {unsubscribe_token(self._secret, self._newsletter, a): address_key(a) for a in key})
            return self._built[1].get(token)


def web_secret(cfg: Config) -> str:
    """The tokens' key from the variable ``[web] secret_env`` names; a missing or short one is a config error."""
    name = cfg.web.secret_env
    secret = os.environ.get(name, "")
    if not secret and not variables.printable(name):  # the key itself, pasted: not echoed back
        raise variables.unlike_a_name(cfg.path, "[web] secret_env")
    if len(secret) < MIN_SECRET_CHARS:
        problem = "is not set" if not secret else f"is shorter than {MIN_SECRET_CHARS} characters"
        raise ConfigError(cfg.path, "[web] secret_env", f"environment variable {name} {problem}; it keys the "
                          "unsubscribe links.", f"export {name}=$(python3 -c 'import secrets; "
                          "print(secrets.token_urlsafe())') and keep it the same for every send and serve, "
                          "or set [web] one_click_unsubscribe = false.")
    return secret


def one_click(cfg: Config) -> bool:
    """Whether messages carry per-recipient one-click unsubscribe links (served by `newsletter serve`)."""
    return bool(cfg.web.base_url and cfg.web.one_click_unsubscribe)


def unsubscribe_url(cfg: Config, secret: str, address: str) -> str:
    return f"{site_root(cfg)}u/{unsubscribe_token(secret, cfg.newsletter.title, address)}"


def site_root(cfg: Config) -> str:
    """``[web] base_url`` ending in one slash, so paths join onto it."""
    return (cfg.web.base_url or "").rstrip("/") + "/"


def unsubscribe_mailto(sender: str) -> str:
    """The mail way out beside the link, for clients that do not POST: a message to the sender's mailbox."""
    return f"mailto:{address_key(sender)}?subject=unsubscribe"


# The rendered email is one for all its recipients (stored, and resent as it is): its footer links
# to this stand-in, which each recipient's copy swaps for their own link as it goes out.
TOKEN_SLOT = "RECIPIENT-TOKEN"


def unsubscribe_slot(cfg: Config) -> str | None:
    """The stand-in unsubscribe URL the templates link to, when messages carry one-click links."""
    return f"{site_root(cfg)}u/{TOKEN_SLOT}" if one_click(cfg) else None


def personal(email: RenderedEmail, cfg: Config, secret: str, address: str) -> RenderedEmail:
    """``email`` with the footer's stand-in link replaced by ``address``'s own."""
    slot, own = unsubscribe_slot(cfg), unsubscribe_url(cfg, secret, address)
    if slot is None:
        return email
    return replace(email, html=email.html.replace(slot, own), text=email.text.replace(slot, own))
