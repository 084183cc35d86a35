"""Mail from the `cx` command: the SMTP relay's settings from the environment, checked addresses, and
one message with attachments sent through the relay (`cx brief --mail-to`)."""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from metrics.errors import CxError

DEFAULT_PORT = 25
DEFAULT_SENDER = "cx-dashboard@localhost"
TIMEOUT = 60  # seconds a relay may take to answer before the command gives up and says so
# One plain address: no display name, quotes, spaces or line breaks, so a value can never add a
# header or a recipient. Stricter than RFC 5322 on purpose: agency addresses look like this.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


class MailError(CxError):
    """Mail that cannot be sent: bad settings, a bad address or a relay that refused it."""


@dataclass(frozen=True)
class Relay:
    """The SMTP relay mail goes through, and who the mail is from."""

    host: str
    port: int = DEFAULT_PORT
    user: str = ""
    password: str = ""
    starttls: bool = False
    sender: str = DEFAULT_SENDER

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Relay:
        """Read the relay from CX_SMTP_* and CX_MAIL_FROM, or raise naming the variable at fault."""
        host = environ.get("CX_SMTP_HOST", "").strip()
        if not host:
            raise MailError("CX_SMTP_HOST is not set: name the SMTP relay to send mail through")
        port_text = environ.get("CX_SMTP_PORT", "").strip() or str(DEFAULT_PORT)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise MailError(f"CX_SMTP_PORT {port_text!r} is not a port number (1 to 65535)")
        user, password = environ.get("CX_SMTP_USER", ""), environ.get("CX_SMTP_PASSWORD", "")
        if bool(user) != bool(password):
            given, missing = (
                ("CX_SMTP_USER", "CX_SMTP_PASSWORD") if user else ("CX_SMTP_PASSWORD", "CX_SMTP_USER")
            )
            raise MailError(f"{given} is set but {missing} is not: set both to log in, or neither")
        starttls = environ.get("CX_SMTP_STARTTLS", "").strip()
        if starttls not in ("", "0", "1"):
            raise MailError(f"CX_SMTP_STARTTLS {starttls!r} is not 1 (use STARTTLS) or 0 (do not)")
        sender = environ.get("CX_MAIL_FROM", "").strip() or DEFAULT_SENDER
        if not _ADDRESS.fullmatch(sender):
            raise MailError(f"CX_MAIL_FROM {sender!r} is not an e-mail address like name@agency.gov")
        return cls(host, int(port_text), user, password, starttls == "1", sender)


def recipients(values: Sequence[str]) -> list[str]:
    """Return the addresses of repeated and comma-separated --mail-to values, each once, or raise
    naming the first value that is not one plain address."""
    found: list[str] = []
    for value in values:
        for part in value.split(","):
            address = part.strip()
            if not _ADDRESS.fullmatch(address):
                raise MailError(
                    f"--mail-to {address!r} is not an e-mail address like name@agency.gov "
                    "(give one address per --mail-to, or several separated by commas)"
                )
            if address not in found:
                found.append(address)
    return found


def message(
    subject: str, body: str, to: Sequence[str], attachments: Sequence[tuple[str, bytes, str]], sender: str
) -> EmailMessage:
    """Return the message: a plain-text body and each (file name, bytes, MIME type) attached."""
    mail = EmailMessage()
    # A title with a line break must not become a second header line.
    mail["Subject"] = " ".join(subject.split())
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    mail.set_content(body)
    for name, data, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail


def send(
    subject: str,
    body: str,
    to: Sequence[str],
    attachments: Sequence[tuple[str, bytes, str]] = (),
    relay: Relay | None = None,
) -> None:
    """Send one message to every address in `to` through the relay (by default the environment's),
    or raise naming the relay's host and port and what went wrong."""
    relay = relay or Relay.from_environment()
    checked = recipients(to)
    mail = message(subject, body, checked, attachments, relay.sender)
    where = f"the SMTP relay {relay.host}:{relay.port}"
    try:
        with smtplib.SMTP(relay.host, relay.port, timeout=TIMEOUT) as smtp:
            if relay.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if relay.user:
                smtp.login(relay.user, relay.password)
            refused = smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as error:
        raise MailError(f"{where} refused every recipient: {_refusals(error.recipients)}") from error
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"could not send mail through {where}: {error}") from error
    if refused:
        # The others have it: say who does not, rather than pass as sent.
        raise MailError(f"{where} refused {_refusals(refused)}; the others were sent the mail")


def _refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {reply.decode('utf-8', 'replace')})" for address, (code, reply) in refused.items()
    )
