"""Delivery: turn a rendered issue into one MIME message per recipient and hand it to a transport.

Transports are the SMTP edge. ``FileTransport`` (the default) writes .eml
files into an outbox folder; ``SMTPTransport`` talks to a mail server. Each
recipient's delivery is recorded in the store before and after the hand-off,
so a rerun skips recipients already served and one refused address does not
stop the others.
"""

from __future__ import annotations

import hashlib
import os
import re
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol

from newsletter.clock import Clock
from newsletter.config import Config, SMTPSettings
from newsletter.errors import ConfigError, DeliveryError
from newsletter.models import Delivery, RenderedEmail
from newsletter.store import Store


ALREADY_SENT = "already sent"  # Delivery.location of a recipient served by an earlier run


class Transport(Protocol):
    name: str

    def send(self, message: EmailMessage, recipient: str) -> str:
        """Hand one message over; return where it went. Raise on refusal."""


def message_id(issue_key: str, recipient: str, sender: str) -> str:
    """The same issue to the same recipient always gets the same Message-ID,
    so a resend after a crash is recognisably the same message."""
    digest = hashlib.sha256(f"{issue_key}\n{recipient.lower()}".encode()).hexdigest()[:24]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "newsletter.invalid"
    return f"<{digest}@{domain}>"


def build_message(email: RenderedEmail, sender: str, recipient: str, *, msg_id: str,
                  unsubscribe_url: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(email.issue.generated_at)
    msg["Message-ID"] = msg_id
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    msg.set_content(email.text, subtype="plain", charset="utf-8")
    msg.add_alternative(email.html, subtype="html", charset="utf-8")
    return msg


class FileTransport:
    """Writes each message as an .eml file; the outbox of a fresh clone."""

    name = "file"

    def __init__(self, outbox: Path):
        self.outbox = outbox

    def send(self, message: EmailMessage, recipient: str) -> str:
        self.outbox.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9@._-]+", "_", recipient)
        day = message["Date"] and message["Date"].datetime.date().isoformat()
        path = self.outbox / f"{day}-{stem}.eml"
        data = message.as_bytes()
        # Temp file, fsync, rename: a reader never sees half a message.
        fd, tmp = tempfile.mkstemp(dir=self.outbox, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return str(path)


class SMTPTransport:
    name = "smtp"

    def __init__(self, settings: SMTPSettings, password: str | None):
        self.settings = settings
        self._password = password
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "ssl":
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
            if s.username:
                conn.login(s.username, self._password or "")
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(
                f"SMTP server {s.host}:{s.port} refused the login for {s.username!r} ({e.smtp_code}). "
                f"Fix: check [delivery.smtp] username and the password in ${s.password_env}."
            ) from e
        except (OSError, smtplib.SMTPException) as e:
            raise DeliveryError(
                f"cannot reach SMTP server {s.host}:{s.port} ({e.__class__.__name__}: {e}). "
                "Fix: check [delivery.smtp] host, port and security."
            ) from e
        return conn

    def send(self, message: EmailMessage, recipient: str) -> str:
        if self._conn is None:
            self._conn = self._connect()
        self._conn.send_message(message, to_addrs=[recipient])
        return f"{self.settings.host}:{self.settings.port}"

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._conn = None


def make_transport(cfg: Config) -> Transport:
    d = cfg.delivery
    if d.transport == "file":
        return FileTransport(cfg.outbox)
    assert d.smtp is not None  # the config validator guarantees it
    password = None
    if d.smtp.password_env:
        password = os.environ.get(d.smtp.password_env)
        if not password:
            raise ConfigError(
                cfg.path, "[delivery.smtp] password_env",
                f"environment variable {d.smtp.password_env} is not set.",
                f"export {d.smtp.password_env}=... before running, or remove password_env if the server needs no login.",
            )
    return SMTPTransport(d.smtp, password)


def deliver_issue(email: RenderedEmail, store: Store, issue_id: int, transport: Transport, sender: str,
                  recipients: list[str], clock: Clock, *, unsubscribe_url: str | None = None) -> list[Delivery]:
    """Send to each recipient not yet served for this issue; one refusal is recorded, not raised."""
    done = store.delivery_status(issue_id)
    out: list[Delivery] = []
    try:
        for rcpt in recipients:
            mid = message_id(email.issue.key, rcpt, sender)
            if done.get(rcpt) == "sent":
                out.append(Delivery(rcpt, mid, transport.name, ALREADY_SENT, clock.now()))
                continue
            store.mark_delivery(issue_id, rcpt, message_id=mid, status="pending", transport=transport.name, at=clock.now())
            msg = build_message(email, sender, rcpt, msg_id=mid, unsubscribe_url=unsubscribe_url)
            try:
                where = transport.send(msg, rcpt)
            except DeliveryError:
                raise  # the transport itself is unusable: every recipient would fail the same way
            except (OSError, smtplib.SMTPException) as e:
                err = f"{e.__class__.__name__}: {e}"
                store.mark_delivery(issue_id, rcpt, message_id=mid, status="failed", transport=transport.name,
                                    error=err, at=clock.now())
                out.append(Delivery(rcpt, mid, transport.name, "", clock.now(), error=err))
                continue
            store.mark_delivery(issue_id, rcpt, message_id=mid, status="sent", transport=transport.name,
                                location=where, at=clock.now())
            out.append(Delivery(rcpt, mid, transport.name, where, clock.now()))
    finally:
        close = getattr(transport, "close", None)
        if close:
            close()
    return out
