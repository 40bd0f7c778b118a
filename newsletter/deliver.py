"""Delivery: one MIME message per recipient, handed to a transport; one outcome per recipient.

    msg = build_message(email, sender, rcpt, msg_id=message_id(key, rcpt, sender))
    delivery = deliver(msg, rcpt, transport)     # Delivery(status=SENT or FAILED, ...)

Transports are the SMTP edge. ``FileTransport`` (the default) writes .eml
files into an outbox folder; ``SMTPTransport`` talks to a mail server. This
stage keeps no state: the orchestrator claims each recipient in the store
before calling ``deliver`` and records the outcome after, so a rerun skips
recipients already served and one refused address does not stop the others.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import smtplib
import socket
import ssl
import tempfile
import unicodedata
from datetime import datetime
import email.policy
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol

from newsletter.addresses import mailbox_key
from newsletter.config import SMTPSettings
from newsletter.errors import DeliveryError
from newsletter.models import Delivery, DeliveryStatus, RenderedEmail

log = logging.getLogger(__name__)


class Transport(Protocol):
    name: str

    def send(self, message: EmailMessage, recipient: str) -> str:
        """Hand one message over; return where it went. Raise on refusal."""

    def close(self) -> None:
        """Let go of connections; the transport may be used again after."""


def message_id(issue_key: str, recipient: str, sender: str) -> str:
    """The same issue to the same mailbox always gets the same Message-ID, however its address is
    written, so a resend after a crash is recognisably the same message."""
    digest = hashlib.sha256(f"{issue_key}\n{mailbox_key(recipient)}".encode()).hexdigest()[:24]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "newsletter.invalid"
    return f"<{digest}@{domain}>"


def build_message(email: RenderedEmail, sender: str, recipient: str, *, msg_id: str, date: datetime,
                  unsubscribe_url: str | None = None, unsubscribe_mailto: str | None = None,
                  one_click: bool = False) -> EmailMessage:
    """``date`` is when the issue was made: every copy of one issue carries the same. ``unsubscribe_url``
    may be the recipient's own one-click link (``one_click``); ``unsubscribe_mailto`` is offered beside it
    (RFC 2369)."""
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = msg_id
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>" + (f", <{unsubscribe_mailto}>" if unsubscribe_mailto else "")
    if unsubscribe_url and one_click:
        # RFC 8058's POST names no one: only a link of the recipient's own can act on it. A static page
        # shared by every reader would be told "unsubscribe" and could not know whom to drop.
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(email.text, subtype="plain", charset="utf-8")
    msg.add_alternative(email.html, subtype="html", charset="utf-8")
    # After the parts: setting the content clears every Content-* header before it.
    if language := _language(email):  # RFC 3282: what a client's reader or translator should expect
        msg["Content-Language"] = language
    return msg


_HTML_LANG = re.compile(r"<html\b[^>]*\blang=\"([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\"")


def _language(email: RenderedEmail) -> str | None:
    """The issue's language; for an email read back from the store (no issue), its page's own lang."""
    if email.issue is not None:
        return email.issue.language
    found = _HTML_LANG.search(email.html[:2000])
    return found.group(1) if found else None


class _ListHeader(UnstructuredHeader):
    """List-Unsubscribe folded only between its <URL>s: the default policy would encode a URL longer
    than a line as =?utf-8?q?...?=, and no mail client reads a link out of that."""

    def fold(self, *, policy) -> str:
        return f"{self.name}: " + ("," + policy.linesep + " ").join(str(self).split(", ")) + policy.linesep


class _SubjectHeader(UnstructuredHeader):
    """A subject with accents is written as encoded words alone: the default policy folds a line that
    ends in a plain word and its space before an encoded word, and readers unfold that into two spaces
    ("evacuar 1.200  veïns"). Space between two encoded words is dropped by readers, so none is added.
    Each word is whole characters and at most 75 long (RFC 2047), each line at most 78: email.header's
    Header wrote words of 77."""

    def fold(self, *, policy) -> str:
        value = str(self)
        if value.isascii():
            return super().fold(policy=policy)
        words = _encoded_words(value, first=LINE_CHARS - len(self.name) - 2)
        return f"{self.name}: " + f"{policy.linesep} ".join(words) + policy.linesep


LINE_CHARS = 78  # RFC 5322's line length
WORD_CHARS = 75  # RFC 2047's longest encoded word


def _encoded_words(value: str, *, first: int) -> list[str]:
    """``value`` as base64 encoded words of UTF-8, never splitting a character: the first fits in ``first``
    characters, each later one in a continuation line (a space, then WORD_CHARS)."""
    def fits(width: int) -> int:  # the UTF-8 bytes "=?utf-8?b?...?=" holds in ``width`` characters
        return 3 * ((min(width, WORD_CHARS) - len("=?utf-8?b??=")) // 4)

    chunks, chunk, room = [], b"", fits(first)
    for char in value:
        data = char.encode("utf-8")
        if chunk and len(chunk) + len(data) > room:
            chunks.append(chunk)
            chunk, room = b"", fits(LINE_CHARS - 1)
        chunk += data
    chunks.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(c).decode('ascii')}?=" for c in chunks]


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", _ListHeader)
_HEADERS.map_to_type("subject", _SubjectHeader)
_POLICY = email.policy.default.clone(header_factory=_HEADERS)


class FileTransport:
    """Writes each message as an .eml file; the outbox of a fresh clone.

    One file per day, newsletter and mailbox: ``2026-11-27-the-meridian-brief-reader@example.org.eml``.
    The newsletter is in the name because several may share one outbox; a resend of the same message
    (the same Message-ID) replaces its own file, never another newsletter's."""

    name = "file"

    def __init__(self, outbox: Path, newsletter: str = ""):
        self.outbox = outbox
        self.newsletter = newsletter

    def send(self, message: EmailMessage, recipient: str) -> str:
        day = message["Date"] and message["Date"].datetime.date().isoformat()
        mailbox = re.sub(r"[^A-Za-z0-9@._-]+", "_", mailbox_key(recipient))  # the address alone, no display name
        path = self.outbox / f"{day}-{slug(self.newsletter)}-{mailbox}.eml"
        if _holds_another(path, message["Message-ID"]):
            # Two titles with one slug ("Fenwick Morning", "Fenwick morning!"): the exact title's hash tells them apart.
            digest = hashlib.sha256(self.newsletter.encode()).hexdigest()[:8]
            path = path.with_name(f"{day}-{slug(self.newsletter)}-{digest}-{mailbox}.eml")
        tmp = self._write_temp(message.as_bytes())
        try:
            os.replace(tmp, path)  # a failure here is this recipient's file name: theirs alone
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return str(path)

    def _write_temp(self, data: bytes) -> str:
        """The message, whole and synced, in a temp file inside the outbox: a reader never sees half
        a message. A folder that cannot be made or written (no such place, no permission, a full
        disk) fails every recipient alike, so it is the transport's failure, not one recipient's."""
        tmp = None
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.outbox, prefix=".tmp-", suffix=".eml")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            raise DeliveryError(
                f"cannot write to the outbox {self.outbox} ({e.__class__.__name__}: {e.strerror or e}). "
                "Fix: set [delivery] outbox to a folder you can write (a relative path is from the "
                "config file's folder).") from e
        return tmp

    def close(self) -> None:
        pass


SLUG_CHARS = 40  # of a title, in an outbox file name: enough to tell newsletters apart, short enough to read


def slug(title: str) -> str:
    """A title as a short file-name part: its words, case-folded, joined by hyphens ("The Meridian
    Brief!" -> "the-meridian-brief"). Letters of any script are kept: a title in Chinese is not empty."""
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", title).casefold())
    return "-".join(words)[:SLUG_CHARS].strip("-") or "newsletter"


def _holds_another(path: Path, message_id: str) -> bool:
    """Whether ``path`` holds a message other than the one with ``message_id``: an unreadable file counts
    as another, so it is never overwritten."""
    try:
        with path.open("rb") as f:
            return BytesHeaderParser(policy=email.policy.default).parse(f)["Message-ID"] != message_id
    except FileNotFoundError:
        return False
    except OSError:
        return True


# RFC 5321 4.5.3.2.6: a client waits 10 minutes for the reply to the message's final dot. The server may
# be queuing it meanwhile (scanning it, writing it to disk): a client that gives up sooner and sends again
# hands it a second copy of the message each time. The rest of DATA (its 354, the body) keeps the timeout.
ACCEPT_WAIT_S = 600.0


class Unconfirmed(smtplib.SMTPException):
    """The message went over whole and its final dot got no reply in time: the server may have it, so it is
    not handed over again on this connection or another; the recipient stays owed."""


class _WaitsForAcceptance:
    """The wait for the reply to the final dot under ACCEPT_WAIT_S instead of ``[delivery.smtp] timeout``,
    which is for every other reply and for sending the body."""

    _in_data = _whole = False

    def data(self, msg):
        self._in_data, self._whole = True, False
        try:
            return super().data(msg)
        except smtplib.SMTPServerDisconnected as e:
            # smtplib reports a timeout as a closed connection; after the final dot it is no reason to send again.
            if self._whole and isinstance(e.__context__, (TimeoutError, socket.timeout)):
                raise Unconfirmed(f"the mail server took the whole message but did not confirm it within "
                                  f"{self._accept_wait():g} s; it may have it, and it is not sent again now") from e
            raise
        finally:
            self._in_data = self._whole = False
            if self.sock is not None:  # smtplib drops its socket on a failed reply
                self.sock.settimeout(self.timeout)

    def send(self, s):
        super().send(s)
        if self._in_data and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):  # the body and its final dot
            self._whole = True
            if self.sock is not None:
                self.sock.settimeout(self._accept_wait())

    def _accept_wait(self) -> float:
        return max(self.timeout, ACCEPT_WAIT_S)


class _SMTP(_WaitsForAcceptance, smtplib.SMTP):
    pass


class _SMTPSSL(_WaitsForAcceptance, smtplib.SMTP_SSL):
    pass


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
                conn = _SMTPSSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
            else:
                conn = _SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
        except (OSError, smtplib.SMTPException) as e:
            raise self._unreachable(e) from e
        if s.username:
            try:
                _login(conn, s.username, self._password or "")
            except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError, smtplib.SMTPServerDisconnected,
                    OSError) as e:
                conn.close()
                raise self._login_refused(e) from e
        return conn

    def _login_refused(self, e: Exception) -> DeliveryError:
        s = self.settings
        where = f"SMTP server {s.host}:{s.port}"
        if isinstance(e, smtplib.SMTPAuthenticationError):
            return DeliveryError(
                f"{where} refused the login for {s.username!r} ({e.smtp_code}). "
                f"Fix: check [delivery.smtp] username and the password in ${s.password_env}.")
        if isinstance(e, smtplib.SMTPNotSupportedError):
            return DeliveryError(
                f"{where} offers no login on this connection ({e}). "
                "Fix: set [delivery.smtp] security to starttls or ssl, or remove username if it needs none.")
        # Many servers answer a wrong password slowly, or not at all (tarpitting).
        return DeliveryError(
            f"{where} stopped answering after the login for {s.username!r} was sent ({e}). "
            f"Fix: check [delivery.smtp] username and the password in ${s.password_env}, then security.")

    def _unreachable(self, e: Exception) -> DeliveryError:
        s = self.settings
        where = f"SMTP server {s.host}:{s.port}"
        if isinstance(e, smtplib.SMTPNotSupportedError):  # it answered, but offers no STARTTLS
            return DeliveryError(
                f"{where} answered but offers no STARTTLS ({e}). Fix: set [delivery.smtp] security = \"ssl\" "
                "if the server takes TLS from the start (usually port 465), or \"none\" only for a server on "
                "this machine or a network you trust.")
        if isinstance(e, ssl.SSLCertVerificationError):
            # The server is there and talking: host, port and security are right; its certificate is the matter.
            why = e.verify_message.rstrip(".")
            fix = ("the server's certificate must be renewed (by whoever runs it)" if "expired" in why else
                   "set [delivery.smtp] host to the name its certificate is for; for a server with a certificate "
                   "of its own making, add that certificate to this machine's trusted ones (or point SSL_CERT_FILE "
                   "at it)")
            return DeliveryError(f"{where} answered, but its certificate is not trusted ({why}). Fix: {fix}.")
        if isinstance(e, (TimeoutError, socket.timeout)) or "timed out" in str(e):
            return DeliveryError(
                f"{where} did not answer within {s.timeout:g} s. "
                "Fix: check [delivery.smtp] host, port and security (ssl is usually port 465, starttls 587).")
        return DeliveryError(f"cannot reach {where} ({e.__class__.__name__}: {e}). "
                             "Fix: check [delivery.smtp] host, port and security.")

    def send(self, message: EmailMessage, recipient: str) -> str:
        # A server that drops an idle or busy connection mid-run costs a reconnect, not the rest of the run.
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = self._connect()
            try:
                self._conn.send_message(message, to_addrs=[recipient])
                break
            except Unconfirmed:
                self._conn = None  # smtplib closed it
                raise
            except (smtplib.SMTPServerDisconnected, ConnectionError) as e:
                self._conn = None
                if attempt == 2:
                    raise
                log.info("SMTP connection dropped (%s); reconnecting once", e.__class__.__name__)
        return f"{self.settings.host}:{self.settings.port}"

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._conn = None


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with one mechanism the server offers. smtplib's own login() falls through to the next
    mechanism after a refusal, and a server that mishandles that one turns "wrong password" into a
    timeout; one attempt keeps the server's real answer."""
    conn.ehlo_or_helo_if_needed()
    if not conn.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("the server does not offer AUTH")
    offered = conn.esmtp_features["auth"].upper().split()
    conn.user, conn.password = user, password
    for name, method in (("PLAIN", conn.auth_plain), ("LOGIN", conn.auth_login), ("CRAM-MD5", conn.auth_cram_md5)):
        if name in offered:
            conn.auth(name, method)  # raises SMTPAuthenticationError when refused
            return
    raise smtplib.SMTPNotSupportedError(f"no login mechanism in common (server offers {' '.join(offered)})")


def deliver(message: EmailMessage, recipient: str, transport: Transport) -> Delivery:
    """Hand one message to the transport: SENT with where it went, or FAILED with why.

    A transport that is unusable as a whole (no server, login refused) raises DeliveryError:
    every recipient would fail the same way. A transient refusal (4xx, a dropped connection)
    comes back PENDING, still owed, with its error.
    """
    mid = message["Message-ID"]
    try:
        where = transport.send(message, recipient)
    except DeliveryError:
        raise
    except (OSError, smtplib.SMTPException) as e:
        # 5xx is the server's final word on this address: FAILED. A 4xx ("try later"), a dropped
        # connection or a timeout leave the recipient owed (PENDING), for the retries.
        final = (smtp_code(e, recipient) or 0) >= PERMANENT_CODE
        return Delivery(recipient, mid, transport.name, DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
                        error=why_not(e, recipient))
    return Delivery(recipient, mid, transport.name, DeliveryStatus.SENT, location=where)


PERMANENT_CODE = 500  # SMTP replies from 500 up are permanent (RFC 5321 4.2.1); 4xx are transient


def smtp_code(e: BaseException, recipient: str = "") -> int | None:
    """The SMTP reply code behind a refusal: the recipient's for a refused RCPT, else the reply's."""
    return _reply(e, recipient)[0]


def why_not(e: BaseException, recipient: str = "") -> str:
    """Why one message did not go, in words a reader of the output can act on: the mail server's own
    reply when it gave one ('refused: "550 5.1.1 no such user"'), never an exception's repr."""
    code, text = _reply(e, recipient)
    if code is not None:
        said = f'"{code} {text}"' if text else f'"{code}"'
        return f"refused: {said}" if code >= PERMANENT_CODE else f"the mail server said {said} (temporary)"
    if isinstance(e, (smtplib.SMTPServerDisconnected, ConnectionError)):
        return "the mail server dropped the connection, and again after a reconnect"
    if isinstance(e, (TimeoutError, socket.timeout)):
        return "the mail server stopped answering"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror + (f": {e.filename}" if e.filename else "")
    return str(e) or e.__class__.__name__


def _reply(e: BaseException, recipient: str = "") -> tuple[int | None, str]:
    """The SMTP reply behind a refusal, as (code, text): for a refused RCPT, ``recipient``'s (else the
    lowest code given); else the reply that failed. The text is decoded and on one line."""
    if isinstance(e, smtplib.SMTPRecipientsRefused) and e.recipients:
        code, text = e.recipients.get(recipient) or min(e.recipients.values())
    elif isinstance(e, smtplib.SMTPResponseException):
        code, text = e.smtp_code, e.smtp_error
    else:
        return None, ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return code, " ".join(str(text).split())
