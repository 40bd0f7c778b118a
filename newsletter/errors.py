"""Errors a user can act on.

    NewsletterError           any failure the CLI reports as one message, exit 1
    ├── ConfigError           the config file is missing, unreadable or wrong: names file, key, fix
    ├── DeliveryError         the transport refused the whole issue (bad host, bad password)
    ├── StoreError            the database cannot be opened or written (the pipeline turns an
    │                         unusable [store] url into a ConfigError)
    └── Stopped               `run` was asked to stop; a job stopped at a safe point (never shown as an error)

Problems confined to one feed, story or recipient are not exceptions that
escape: the stage records them (FeedReport, Issue.problems, Delivery.error)
and the run goes on.
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Base class: ``str(err)`` is the whole message shown to the user."""

    exit_code = 1


class ConfigError(NewsletterError):
    exit_code = 2

    def __init__(self, path: object, key: str | None, problem: str, fix: str | None = None):
        self.path, self.key, self.problem, self.fix = str(path), key, problem, fix
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        msg = where + problem
        if fix:
            msg += f" Fix: {fix}"
        super().__init__(msg)


class DeliveryError(NewsletterError):
    pass


class StoreError(NewsletterError):
    """The store cannot be opened or written; the message says why, in the database's words, and
    ``fix`` what to do when it is not the usual (a writable path, an installed driver)."""

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.fix = fix


class Stopped(NewsletterError):
    """The service was asked to stop (SIGTERM, Ctrl-C) and this job stopped at a safe point;
    ``str(err)`` says what was cut off. Raised only where the stop left nothing half-written."""
