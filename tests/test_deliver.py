"""Delivery through the file outbox and through a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from newsletter.clock import FixedClock
from newsletter.config import SMTPSettings
from newsletter.deliver import FileTransport, SMTPTransport, deliver_issue
from newsletter.errors import DeliveryError
from newsletter.models import Issue, RenderedEmail
from newsletter.store import Store

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc)


def _email() -> RenderedEmail:
    issue = Issue(title="Test Brief", date=date(2026, 11, 24), generated_at=NOW, sections=[], sidebar=[])
    return RenderedEmail(subject="Test Brief — 24 Nov: Harbour reopens", html="<p>Harbour <b>reopens</b></p>",
                         text="Harbour reopens", issue=issue)


def _issue_id(store: Store, rendered: RenderedEmail) -> int:
    return store.record_issue(rendered.issue, rendered.subject, {"title": rendered.issue.title})


def test_file_outbox_gets_one_multipart_eml_per_recipient(tmp_path, store):
    rendered = _email()
    outbox = tmp_path / "outbox"
    done = deliver_issue(rendered, store, _issue_id(store, rendered), FileTransport(outbox),
                         "Brief <brief@example.com>", ["a@example.org", "b@example.org"], FixedClock(NOW),
                         unsubscribe_url="https://example.com/unsub?u=1")
    assert [d.ok for d in done] == [True, True]
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 2 and not list(outbox.glob(".tmp-*"))
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    for header in ("From", "To", "Subject", "Date", "Message-ID"):
        assert msg[header], header
    assert msg["Subject"] == rendered.subject
    assert msg["List-Unsubscribe"] == "<https://example.com/unsub?u=1>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"].endswith("@example.com>")


def test_rerun_does_not_deliver_twice(tmp_path, store):
    rendered = _email()
    outbox = tmp_path / "outbox"
    issue_id = _issue_id(store, rendered)
    first = deliver_issue(rendered, store, issue_id, FileTransport(outbox), "brief@example.com",
                          ["a@example.org"], FixedClock(NOW))
    (outbox / Path(first[0].location).name).unlink()
    again = deliver_issue(rendered, store, _issue_id(store, rendered), FileTransport(outbox), "brief@example.com",
                          ["a@example.org"], FixedClock(NOW))
    assert again[0].location == "already sent"
    assert not list(outbox.glob("*.eml"))  # nothing was written a second time


def test_smtp_delivers_to_good_recipients_when_one_is_refused(store, smtp_server):
    inbox, port = smtp_server
    rendered = _email()
    issue_id = _issue_id(store, rendered)
    settings = SMTPSettings(host="127.0.0.1", port=port, security="none")
    recipients = ["a@example.org", "ghost@example.org", "b@example.org"]
    done = deliver_issue(rendered, store, issue_id, SMTPTransport(settings, None), "brief@example.com",
                         recipients, FixedClock(NOW))
    assert [d.ok for d in done] == [True, False, True]
    assert "550" in done[1].error
    assert sorted(r for rcpts, _ in inbox.messages for r in rcpts) == ["a@example.org", "b@example.org"]
    msg = email.message_from_bytes(inbox.messages[0][1], policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"

    # A rerun retries the refused address only; the served ones get nothing twice.
    inbox.refuse = None
    again = deliver_issue(rendered, store, issue_id, SMTPTransport(settings, None), "brief@example.com",
                          recipients, FixedClock(NOW))
    assert [d.location for d in again][0::2] == ["already sent", "already sent"]
    assert len(inbox.messages) == 3 and inbox.messages[-1][0] == ["ghost@example.org"]


def test_unreachable_smtp_server_is_one_clear_error(store):
    rendered = _email()
    settings = SMTPSettings(host="127.0.0.1", port=1, security="none", timeout=5)
    with pytest.raises(DeliveryError, match=r"cannot reach SMTP server 127\.0\.0\.1:1.*Fix:"):
        deliver_issue(rendered, store, _issue_id(store, rendered), SMTPTransport(settings, None),
                      "brief@example.com", ["a@example.org"], FixedClock(NOW))
