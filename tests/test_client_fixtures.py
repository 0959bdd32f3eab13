"""The client-shaped fixtures are right by independent tools, not merely by our own parser.

Debian's ``tnef`` (which checks every attribute's checksum) lists and extracts the
winmail.dat streams; ``openssl cms`` verifies the S/MIME signatures and decrypts the
encrypted message; the standard library reads the delivery reports' structure as RFC 3464
lays it out.
"""

from __future__ import annotations

import email
import email.policy
import subprocess
from pathlib import Path

import pytest

from tests import clients
from tests.extras import need_tool
from tests.mail import blank_pdf

PDF = blank_pdf(2)


def run(tool: str, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([tool, *map(str, args)], cwd=cwd, capture_output=True, timeout=60)


def test_the_winmail_dat_lists_and_extracts_with_debians_tnef(tmp_path):
    tnef = need_tool("tnef", "tnef")
    files = [("CV José Martin.pdf", PDF), ("Letter.pdf", b"%PDF-1.7 letter")]
    (tmp_path / "winmail.dat").write_bytes(clients.make_tnef(files))
    listed = run(tnef, "--list", "-f", "winmail.dat", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [line.split(b"\t")[0].decode() for line in listed.stdout.splitlines()] == [
        "CV José Martin.pdf", "Letter.pdf"]
    (tmp_path / "out").mkdir()
    extracted = run(tnef, "-f", "winmail.dat", "-C", "out", cwd=tmp_path)
    assert extracted.returncode == 0 and extracted.stderr == b"", extracted.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == dict(files)


def test_tnef_checks_the_checksums_so_its_verdict_means_something(tmp_path):
    tnef = need_tool("tnef", "tnef")
    stream = bytearray(clients.make_tnef([("cv.pdf", b"%PDF-1.4 x")]))
    stream[stream.find(b"%PDF-1.4 x")] ^= 0x01
    (tmp_path / "winmail.dat").write_bytes(bytes(stream))
    checked = run(tnef, "--list", "-f", "winmail.dat", cwd=tmp_path)
    assert checked.returncode != 0 and b"checksum" in checked.stderr


def test_the_outlook_message_carries_the_stream_as_outlook_does():
    message = email.message_from_bytes(clients.outlook_rich_text([("cv.pdf", PDF)]),
                                       policy=email.policy.default)
    [winmail] = list(message.iter_attachments())
    assert winmail.get_content_type() == "application/ms-tnef"
    assert winmail.get_filename() == "winmail.dat"
    assert winmail.get_content() == clients.make_tnef([("cv.pdf", PDF)])


@pytest.fixture
def openssl(tmp_path: Path) -> Path:
    """A folder holding the candidate's and the recruiters' certificates and keys."""
    need_tool("openssl", "openssl")
    for name, who in (("alice", clients.identity()),
                      ("recruiters", clients.identity("recruitment@example.org"))):
        (tmp_path / f"{name}.pem").write_bytes(who.certificate_pem)
        (tmp_path / f"{name}.key").write_bytes(who.key_pem)
    return tmp_path


def test_the_clear_signed_message_verifies_with_openssl(openssl):
    (openssl / "signed.eml").write_bytes(clients.outlook_signed(PDF))
    checked = run("openssl", "cms", "-verify", "-noverify", "-in", "signed.eml",
                  "-certfile", "alice.pem", "-out", "content", cwd=openssl)
    assert checked.returncode == 0, checked.stderr
    assert b"Verification successful" in checked.stderr
    assert (openssl / "content").read_bytes() == clients.signed_entity(PDF)[:-2]


def test_a_changed_byte_fails_openssls_verification(openssl):
    signed = clients.outlook_signed(PDF).replace(b"Please find", b"Please fInd", 1)
    (openssl / "signed.eml").write_bytes(signed)
    checked = run("openssl", "cms", "-verify", "-noverify", "-in", "signed.eml", "-out",
                  "content", cwd=openssl)
    assert checked.returncode != 0 and b"verification failure" in checked.stderr


def test_the_opaque_signed_message_verifies_and_yields_the_entity(openssl):
    (openssl / "opaque.eml").write_bytes(clients.outlook_opaque_signed(PDF))
    checked = run("openssl", "cms", "-verify", "-noverify", "-in", "opaque.eml", "-out",
                  "content", cwd=openssl)
    assert checked.returncode == 0, checked.stderr
    assert (openssl / "content").read_bytes() == clients.signed_entity(PDF)


def test_the_encrypted_message_decrypts_only_with_the_recipients_key(openssl):
    (openssl / "encrypted.eml").write_bytes(clients.outlook_encrypted(PDF))
    checked = run("openssl", "cms", "-decrypt", "-in", "encrypted.eml", "-recip",
                  "recruiters.pem", "-inkey", "recruiters.key", "-out", "content", cwd=openssl)
    assert checked.returncode == 0, checked.stderr
    assert (openssl / "content").read_bytes() == clients.signed_entity(PDF)
    refused = run("openssl", "cms", "-decrypt", "-in", "encrypted.eml", "-recip", "alice.pem",
                  "-inkey", "alice.key", "-out", "content", cwd=openssl)
    assert refused.returncode != 0


NOTICE = (b"From: NATO PA Recruitment <recruitment@example.org>\r\nTo: gone@example.net\r\n"
          b"Subject: Application received\r\nMessage-ID: <1.2.intake@example.org>\r\n"
          b"Auto-Submitted: auto-replied\r\n\r\nThank you.\r\n")


@pytest.mark.parametrize("build, returned", [
    (clients.postfix_dsn, "text/rfc822-headers"), (clients.exchange_ndr, "message/rfc822")])
def test_the_delivery_reports_have_rfc_3464s_structure(build, returned):
    report = email.message_from_bytes(build(NOTICE, "gone@example.net"),
                                      policy=email.policy.default)
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    parts = report.get_payload()
    assert [part.get_content_type() for part in parts][1:] == [
        "message/delivery-status", returned]
    per_message, per_recipient = parts[1].get_payload()
    assert per_message["Reporting-MTA"].startswith("dns;")
    assert per_recipient["Final-Recipient"].replace(" ", "") == "rfc822;gone@example.net"
    assert per_recipient["Action"] == "failed" and per_recipient["Status"].startswith("5.1.")
    assert "550 5.1." in str(per_recipient["Diagnostic-Code"])
    if returned == "message/rfc822":
        assert parts[2].get_payload()[0]["Message-ID"] == "<1.2.intake@example.org>"
    else:
        assert "Message-ID: <1.2.intake@example.org>" in parts[2].get_content()
