"""Log output: readable lines for a terminal, plain lines for a file or journald, one JSON object per
line for collectors, no secrets in any.

    {"time": "2026-11-27T07:00:03.120+00:00", "level": "info", "logger": "newsletter.service",
     "message": "send: issue sent to 2, 0 failed, 0 had it already, 0 owed", "job": "send", "sent": 2, ...}

A job passes its figures as ``extra={...}``; JSON lines carry them as fields.
``hide_secrets`` masks the values of the SMTP password and the model API key
wherever they would appear: in a message, its arguments, a traceback or a field.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

from newsletter.config import Config

MASK = "***"
# Attributes every LogRecord has; anything else on a record came from extra={...}.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        return json.dumps(out, default=str, ensure_ascii=False)


class HideSecrets(logging.Filter):
    """Replaces each secret's value by MASK in the record before any handler formats it."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg, record.args = self._clean(record.getMessage()), None
        if record.exc_info:
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self._clean(value))
        return True


class LineFormatter(logging.Formatter):
    """Text for a file or journald: one line per message, never padded or wrapped at a width (a
    line split in two is not found again by grep, and journald makes each half an entry)."""

    # In UTC and saying so: the machine's own zone, unnamed, read as the newsletter's (the times in the
    # messages are the newsletter's, named).
    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S UTC")

    def formatMessage(self, record: logging.LogRecord) -> str:
        # A server's multi-line reply stays on its message's line; a traceback after it keeps its lines.
        return super().formatMessage(record).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def json_lines() -> bool:
    """Whether this process logs JSON lines (``--log-format json``): then every line it writes for a
    collector, its start line and its last error included, must be one JSON object too."""
    return any(isinstance(h.formatter, JSONFormatter) for h in logging.getLogger().handlers)


def json_line(message: str, level: int = logging.INFO, **fields: object) -> str:
    """``message`` as a JSON log line, secrets masked, for what is printed rather than logged."""
    record = logging.LogRecord("newsletter", level, "", 0, message, None, None)
    record.__dict__.update(fields)
    for handler in logging.getLogger().handlers:
        for f in handler.filters:
            if isinstance(f, HideSecrets):
                f.filter(record)
    return JSONFormatter().format(record)


def terminal_time(when: datetime) -> str:
    """A terminal line's time column (rich hands it the local time, naive): UTC, named, as in a file's lines."""
    return when.astimezone(timezone.utc).strftime("[%H:%M:%S UTC]")


def setup(level: int, fmt: str, text_handler: logging.Handler | None) -> None:
    """Root logging for one CLI run: ``fmt`` is "json" (stderr), or "text": ``text_handler`` (a
    terminal's), or plain lines on stderr when it is None (stderr is a file, a pipe or journald)."""
    if fmt == "json" or text_handler is None:
        handler: logging.Handler = logging.StreamHandler()
        handler.setFormatter(JSONFormatter() if fmt == "json" else LineFormatter())
    else:
        handler = text_handler
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler])  # a no-op when a host (pytest) set handlers


def hide_secrets(cfg: Config) -> None:
    """Mask this config's secrets (read from the environment variables it names) in every log handler."""
    import os

    smtp = cfg.delivery.smtp
    secrets = [cfg.api_key() or "", os.environ.get(smtp.password_env, "") if smtp and smtp.password_env else ""]
    hiding = HideSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(hiding)
