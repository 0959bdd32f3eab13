"""Mailboxes: where applications arrive (IMAP or a local Maildir), behind one interface."""

from __future__ import annotations

from pathlib import Path

from intake_bot.clock import Clock, now_utc
from intake_bot.config import Config
from intake_bot.mailbox.base import Mailbox, MailboxError, MailItem


def open_mailbox(config: Config, clock: Clock = now_utc) -> Mailbox:
    """The mailbox the configuration names; ``clock`` judges when a token is due."""
    url = config.mailbox_url
    if url.startswith("maildir:"):
        from intake_bot.mailbox.maildir import MaildirMailbox

        return MaildirMailbox(Path(url[len("maildir:"):]), config.max_message_bytes,
                              config.quarantine_folder)
    from intake_bot.mailbox.imap import ImapMailbox

    if config.mailbox_auth == "oauth2":
        return ImapMailbox.from_url(url, None, token_login=config.token_login(clock),
                                    max_fetch_bytes=config.max_message_bytes)
    password = config.secret(config.mailbox_password_env, "mailbox")
    if password is None:
        raise config.error(("mailbox", "password_env"),
                           "an IMAP mailbox needs the name of the variable holding its password")
    return ImapMailbox.from_url(url, password, max_fetch_bytes=config.max_message_bytes)


__all__ = ["MailItem", "Mailbox", "MailboxError", "open_mailbox"]
