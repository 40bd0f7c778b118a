"""Unsubscribe tokens: an HMAC of the newsletter and the address, keyed by a secret from the environment.

    token = unsubscribe_token(secret, "The Meridian Brief", "ann@example.org")
    who = token_owner(secret, "The Meridian Brief", token, candidates)   # the address, or None

The token names no one: the app finds whose it is by computing the tokens of the addresses it
knows (the config's recipients and everyone an issue was owed to) and comparing each in
constant time. A forged, shortened or other newsletter's token matches none of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable

from newsletter.addresses import AddressError, mailbox
from newsletter.config import Config
from newsletter.errors import ConfigError

MIN_SECRET_CHARS = 16  # shorter keys are guessable; `python -c 'import secrets; print(secrets.token_urlsafe())'`


def address_key(address: str) -> str:
    """The bare lower-cased address a token and the store name ("Ann <Ann@X.org>" -> "ann@x.org")."""
    try:
        return mailbox(address)[1].lower()
    except AddressError:
        return address.strip().lower()


def unsubscribe_token(secret: str, newsletter: str, address: str) -> str:
    digest = hmac.new(secret.encode(), f"unsubscribe\n{newsletter}\n{address_key(address)}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_owner(secret: str, newsletter: str, token: str, candidates: Iterable[str]) -> str | None:
    """The address whose token this is, or None."""
    found = None
    for address in {address_key(a) for a in candidates}:
        # compare_digest on every candidate: the time taken says nothing about which one matched.
        if hmac.compare_digest(unsubscribe_token(secret, newsletter, address).encode(), token.encode()):
            found = address
    return found


def web_secret(cfg: Config) -> str:
    """The tokens' key from the variable ``[web] secret_env`` names; a missing or short one is a config error."""
    name = cfg.web.secret_env
    secret = os.environ.get(name, "")
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
