"""`cx brief --mail-to` against a real SMTP server on loopback (aiosmtpd): the deck arrives attached,
to the right people, with no hidden value; bad addresses and missing settings stop it before anything
is rendered or sent; a relay that cannot be reached is named and the deck stays written."""

from __future__ import annotations

import email
import io
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pptx import Presentation
from serving import free_port
from test_briefing import EQUITY, numbers_rows, tables

from cx import mail
from cx.cli import main
from dashboard.deck import PPTX
from metrics.formatting import NOT_ASKED, SUPPRESSED
from metrics.query import Engine, Query

SENDER = "cx-briefings@agency.gov"
LEADERS = ["leaders@agency.gov", "a@x.gov", "b@y.gov"]


class Inbox:
    """An aiosmtpd handler that keeps every message it is given, with its envelope."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class Logins:
    """An aiosmtpd authenticator that accepts one user and password and records every attempt."""

    def __init__(self) -> None:
        self.tried: list[tuple[str, str]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        tried = (auth_data.login.decode(), auth_data.password.decode())
        self.tried.append(tried)
        # Not `handled`: aiosmtpd then answers a refusal with 535 itself.
        return AuthResult(success=tried == ("cx", "s3cret"), handled=False)


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch, sample_dir: Path) -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server on a free loopback port, named by the CX_SMTP_* variables."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    for name in ("CX_SMTP_USER", "CX_SMTP_PASSWORD", "CX_SMTP_STARTTLS", "CX_MIN_N"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CX_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CX_SMTP_PORT", str(port))
    monkeypatch.setenv("CX_MAIL_FROM", SENDER)
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    try:
        yield inbox, port
    finally:
        controller.stop()


def brief(out: Path, sample_dir: Path, *mail_to: str) -> list[str]:
    to = [part for address in mail_to for part in ("--mail-to", address)]
    return ["brief", "--url", EQUITY, "--out", str(out), "--data-dir", str(sample_dir), *to]


def test_cx_brief_mails_the_deck_it_wrote_with_no_hidden_value(
    relay: tuple[Inbox, int],
    tmp_path: Path,
    sample_dir: Path,
    sample_engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox, port = relay
    out = tmp_path / "equity.pptx"
    assert main(brief(out, sample_dir, "leaders@agency.gov", "a@x.gov, b@y.gov")) == 0
    assert f"mailed {out} to {', '.join(LEADERS)} through 127.0.0.1:{port}" in capsys.readouterr().out
    [(sender, recipients, message)] = inbox.received
    assert (sender, recipients) == (SENDER, LEADERS)
    assert message["To"] == ", ".join(LEADERS) and message["From"] == SENDER
    written = Presentation(str(out))
    title = written.slides[0].shapes.title.text
    assert message["Subject"] == f"CX briefing: {title} (FY2026 Q4)"
    [attached] = list(message.iter_attachments())
    assert (attached.get_filename(), attached.get_content_type()) == ("equity.pptx", PPTX)
    content = attached.get_content()
    assert content == out.read_bytes()

    # The attachment opens, and a hidden group's row holds only the symbol (or "not asked", for a theme
    # its surveys did not ask), on every slide.
    presentation = Presentation(io.BytesIO(content))
    groups = sample_engine.run(
        Query.of("trust", by=["age_band"], where={"service": "Passport Services", "channel": "phone"},
                 start="FY2026 Q4", end="FY2026 Q4")
    )  # fmt: skip
    hidden = set(groups.filter(pl.col("suppressed"))["age_band"])
    assert len(hidden) >= 3
    rows = numbers_rows(presentation, "Trust by age band")
    assert {row[0] for row in rows} == set(groups["age_band"])
    for slide in presentation.slides:
        for table in tables(slide):
            for row in table:
                if row[0] in hidden:
                    assert all(cell in (SUPPRESSED, "", NOT_ASKED) for cell in row[1:]), row

    # The body lists the deck's key figures as its KPI slide does, and where they came from.
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    figures = tables(presentation.slides[1])[0][1:]
    assert len(figures) == 6
    for label, value, _ in figures:
        assert f"- {label}: {value}" in text
    assert f"Link to this view: {EQUITY}" in text
    assert "Suppression: " in text and "Period: FY2026 Q4" in text


def test_bad_addresses_are_refused_before_the_page_runs(
    relay: tuple[Inbox, int], tmp_path: Path, sample_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox, _ = relay
    out = tmp_path / "deck.pptx"
    for value, named in [
        ("leaders.agency.gov", "'leaders.agency.gov'"),
        ("leaders@agency.gov\nBcc: spy@evil.example", "'leaders@agency.gov\\nBcc: spy@evil.example'"),
        ("leaders@agency.gov,spy", "'spy'"),
        ("Leaders <leaders@agency.gov>", "'Leaders <leaders@agency.gov>'"),
        ("leaders@agency.gov,", "''"),
    ]:
        assert main(brief(out, sample_dir, value)) == 2, value
        err = capsys.readouterr().err
        assert f"cx: error: --mail-to {named} is not an e-mail address like name@agency.gov" in err, err
    assert not out.exists() and inbox.received == []


def test_a_missing_relay_is_named_before_the_page_runs(
    relay: tuple[Inbox, int],
    tmp_path: Path,
    sample_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("CX_SMTP_HOST")
    out = tmp_path / "deck.pptx"
    assert main(brief(out, sample_dir, "leaders@agency.gov")) == 2
    assert "cx: error: CX_SMTP_HOST is not set: name the SMTP relay" in capsys.readouterr().err
    assert not out.exists() and relay[0].received == []


def test_a_relay_that_cannot_be_reached_is_named_and_the_deck_stays_written(
    relay: tuple[Inbox, int],
    tmp_path: Path,
    sample_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    closed = free_port()  # nothing listens here
    monkeypatch.setenv("CX_SMTP_PORT", str(closed))
    out = tmp_path / "deck.pptx"
    assert main(brief(out, sample_dir, "leaders@agency.gov")) == 1
    err = capsys.readouterr().err
    assert f"cx: error: could not send mail through the SMTP relay 127.0.0.1:{closed}: " in err, err
    assert f"(the deck is written: {out})" in err
    assert len(Presentation(str(out)).slides) > 3


def test_the_relay_settings_are_read_strictly_from_the_environment() -> None:
    assert mail.Relay.from_environment({"CX_SMTP_HOST": "smtp.agency.gov"}) == mail.Relay(
        "smtp.agency.gov", 25, "", "", False, "cx-dashboard@localhost"
    )
    full = {
        "CX_SMTP_HOST": "smtp.agency.gov",
        "CX_SMTP_PORT": "587",
        "CX_SMTP_USER": "cx",
        "CX_SMTP_PASSWORD": "s3cret",
        "CX_SMTP_STARTTLS": "1",
        "CX_MAIL_FROM": SENDER,
    }
    assert mail.Relay.from_environment(full) == mail.Relay(
        "smtp.agency.gov", 587, "cx", "s3cret", True, SENDER
    )
    for changed, expected in [
        ({"CX_SMTP_HOST": " "}, "CX_SMTP_HOST is not set"),
        ({"CX_SMTP_PORT": "smtp"}, "CX_SMTP_PORT 'smtp' is not a port number (1 to 65535)"),
        ({"CX_SMTP_PORT": "70000"}, "CX_SMTP_PORT '70000' is not a port number"),
        ({"CX_SMTP_PASSWORD": ""}, "CX_SMTP_USER is set but CX_SMTP_PASSWORD is not"),
        ({"CX_SMTP_STARTTLS": "yes"}, "CX_SMTP_STARTTLS 'yes' is not 1 (use STARTTLS) or 0 (do not)"),
        (
            {"CX_MAIL_FROM": "CX <cx@agency.gov>"},
            "CX_MAIL_FROM 'CX <cx@agency.gov>' is not an e-mail address",
        ),
    ]:
        with pytest.raises(mail.MailError) as raised:
            mail.Relay.from_environment(full | changed)
        assert str(raised.value).startswith(expected), raised.value
    assert mail.recipients(["a@x.gov, b@y.gov", "a@x.gov"]) == ["a@x.gov", "b@y.gov"]


def test_send_logs_in_when_a_user_is_set_and_names_a_refused_login() -> None:
    inbox, logins, port = Inbox(), Logins(), free_port()
    # PLAIN only, so each login is one attempt (smtplib tries LOGIN after a refused PLAIN).
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=logins,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    try:
        good = mail.Relay("127.0.0.1", port, "cx", "s3cret", sender=SENDER)
        mail.send("Weekly", "Hello.\n", ["a@x.gov"], [("n.csv", b"a,b\n1,2\n", "text/csv")], good)
        [(_, recipients, message)] = inbox.received
        assert recipients == ["a@x.gov"] and message["Subject"] == "Weekly"
        [attached] = list(message.iter_attachments())
        assert (attached.get_filename(), attached.get_content()) == ("n.csv", "a,b\n1,2\n")
        bad = mail.Relay("127.0.0.1", port, "cx", "wrong", sender=SENDER)
        with pytest.raises(mail.MailError) as refused:
            mail.send("Weekly", "Hello.\n", ["a@x.gov"], relay=bad)
        assert str(refused.value).startswith(
            f"could not send mail through the SMTP relay 127.0.0.1:{port}: (535"
        )
        assert logins.tried == [("cx", "s3cret"), ("cx", "wrong")]
        assert len(inbox.received) == 1
        # A relay without STARTTLS is not used in the clear when STARTTLS was asked for.
        tls = mail.Relay("127.0.0.1", port, starttls=True, sender=SENDER)
        with pytest.raises(mail.MailError) as clear:
            mail.send("Weekly", "Hello.\n", ["a@x.gov"], relay=tls)
        assert str(clear.value) == (
            f"could not send mail through the SMTP relay 127.0.0.1:{port}: STARTTLS extension not supported by server."
        )
        assert len(inbox.received) == 1
    finally:
        controller.stop()
