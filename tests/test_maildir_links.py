"""The Maildir is never read or written through a symbolic link (issue 17, item 5)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from intake_bot.mailbox import MailboxError
from intake_bot.mailbox.maildir import MaildirMailbox
from tests.conftest import run_cli
from tests.mail import application, blank_pdf
from tests.readback import rows
from tests.test_pipeline import ON_TIME, pdf_application

SECRET = b"root:$6$not-for-candidates$:19000:0:99999:7:::\n"


def secret_file(tmp_path: Path) -> Path:
    """A file outside the Maildir that the bot's user can read, as /etc/shadow would be to root."""
    path = tmp_path / "outside" / "shadow"
    path.parent.mkdir()
    path.write_bytes(application(attachments=[("cv.pdf", blank_pdf(), "application/pdf")])
                     + SECRET)
    return path


def files_holding(root: Path, needle: bytes) -> list[Path]:
    return [path for path in root.rglob("*")
            if path.is_file() and not path.is_symlink() and needle in path.read_bytes()]


def test_a_link_in_the_inbox_is_neither_read_nor_answered_but_set_aside(project, tmp_path,
                                                                         caplog):
    target = secret_file(tmp_path)
    project.deliver(pdf_application(), ON_TIME)
    link = project.maildir / "new" / "1780000000.shadow.test"
    link.symlink_to(target)
    with caplog.at_level(logging.WARNING):
        result = run_cli("--config", str(project.config_path), "run", "--once")
    assert result.exit_code == 0, result.output
    [row] = rows(project)  # the real application only
    assert row["status"] == "accepted" and row["sender"] == "alice@example.net"
    assert len(project.notices()) == 1
    assert files_holding(project.root / "var", SECRET) == []  # not archived, not answered
    [aside] = project.folder("Quarantine")
    assert aside.is_symlink() and os.readlink(aside) == str(target)
    assert target.read_bytes().endswith(SECRET)  # what it points to is left alone
    assert project.inbox() == []
    assert "not a regular file" in caplog.text and "moved unread to Quarantine" in caplog.text


def test_a_fifo_in_the_inbox_does_not_hang_the_cycle(project):
    project.deliver(pdf_application(), ON_TIME)
    os.mkfifo(project.maildir / "new" / "1780000001.fifo.test")
    result = run_cli("--config", str(project.config_path), "run", "--once")
    assert result.exit_code == 0, result.output
    assert [row["status"] for row in rows(project)] == ["accepted"]
    [aside] = project.folder("Quarantine")
    assert aside.is_fifo()


def test_a_message_swapped_for_a_link_after_the_listing_is_not_read(project, tmp_path):
    target = secret_file(tmp_path)
    first = project.deliver(pdf_application(), ON_TIME)
    second = project.deliver(pdf_application(sender="Bob <bob@example.net>"),
                             ON_TIME.replace(minute=1))
    mailbox = MaildirMailbox(project.maildir)
    pending = mailbox.pending()
    assert next(pending).key == f"new/{first.name}"  # the listing is taken
    second.unlink()
    second.symlink_to(target)  # O_NOFOLLOW refuses it now
    assert list(pending) == []
    [aside] = project.folder("Quarantine")
    assert aside.is_symlink()


def test_a_processed_folder_that_is_a_link_is_refused_and_the_message_stays(project, tmp_path,
                                                                          caplog):
    outside = tmp_path / "elsewhere"
    for sub in ("tmp", "new", "cur"):
        (outside / sub).mkdir(parents=True)
    project.deliver(pdf_application(), ON_TIME)
    (project.maildir / ".Processed").symlink_to(outside)
    with caplog.at_level(logging.WARNING):
        result = run_cli("--config", str(project.config_path), "run", "--once")
    assert result.exit_code == 0, result.output
    assert [p for p in outside.rglob("*") if p.is_file()] == []
    assert len(project.inbox()) == 1  # registered and answered, then left for a human
    [row] = rows(project)
    assert row["status"] == "accepted" and row["moved_to"] is None
    assert "symbolic link" in caplog.text and "stays in the inbox" in caplog.text


def test_an_inbox_folder_that_is_a_link_is_one_line_and_no_read(project, tmp_path):
    outside = tmp_path / "elsewhere-new"
    outside.mkdir()
    (outside / "1.msg").write_bytes(pdf_application())
    project.maildir.mkdir(parents=True, exist_ok=True)
    for sub in ("tmp", "cur"):
        (project.maildir / sub).mkdir(exist_ok=True)
    (project.maildir / "new").symlink_to(outside)
    result = run_cli("--config", str(project.config_path), "run", "--once")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "symbolic link" in result.output
    assert not Path(project.config.register_path).exists() or rows(project) == []


def test_moving_into_a_linked_folder_raises_a_mailbox_error(tmp_path):
    maildir = tmp_path / "Maildir"
    mailbox = MaildirMailbox(maildir)
    (maildir / "new" / "1.msg").write_bytes(b"Subject: x\r\n\r\nbody\r\n")
    (tmp_path / "out" / "cur").mkdir(parents=True)
    (maildir / ".Archive").mkdir()
    (maildir / ".Archive" / "cur").symlink_to(tmp_path / "out" / "cur")
    try:
        mailbox.move("new/1.msg", "Archive")
    except MailboxError as error:
        assert "symbolic link" in str(error)
    else:
        raise AssertionError("moved through a link")
    assert (maildir / "new" / "1.msg").exists() and list((tmp_path / "out" / "cur").iterdir()) == []
