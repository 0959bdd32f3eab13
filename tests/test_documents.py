"""Tests of document recognition and bounded inspection, on real documents built here."""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake_bot.documents import DocumentInfo, inspect_document, shutdown_worker, sniff
from tests import builders

QUICK_S = 3.0  # a hostile document must be turned down within this


def words(n: int) -> list[str]:
    """Paragraphs of ten words each, ``n`` words in all."""
    vocabulary = [f"word{i}" for i in range(n)]
    return [" ".join(vocabulary[i : i + 10]) for i in range(0, n, 10)]


def worker_pids() -> set[int]:
    """The inspection worker among this test process's children, when one runs.

    Other children (a Dovecot started by a server fixture) are not the worker.
    """
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"intake_bot.documents.worker" in command:
            pids.add(int(stat.parent.name))
    return pids


def inspect_quickly(data: bytes, **kwargs: object) -> DocumentInfo:
    started = time.monotonic()
    info = inspect_document(data, want_text=True, **kwargs)  # type: ignore[arg-type]
    assert time.monotonic() - started < QUICK_S
    return info


@pytest.fixture(scope="module", autouse=True)
def warm_worker() -> None:
    """Start the worker once, so that no test's timing includes the interpreter start."""
    inspect_document(builders.make_pdf(["warm up"]), want_text=False)


# --- Recognition by content --------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "kind"),
    [
        (lambda: builders.make_pdf(["Hello"]), "pdf"),
        (builders.make_scanned_pdf, "pdf"),
        (builders.make_truncated_pdf, "pdf"),
        (lambda: builders.make_docx(["Hello"]), "docx"),
        (lambda: builders.make_odt(["Hello"]), "odt"),
        (lambda: builders.make_doc(["Hello"]), "doc"),
        (lambda: builders.make_ole({"EncryptionInfo": b"x", "EncryptedPackage": b"y"}), "docx"),
        (lambda: builders.make_ole({"Workbook": b"x"}), "other"),
        (lambda: b"PK\x03\x04 not really a zip", "other"),
        (lambda: b"Dear Sir or Madam, please find my CV.", "other"),
        (lambda: b"", "other"),
    ],
)
def test_kind_is_recognised_by_content(build, kind) -> None:
    assert sniff(build()) == kind


def test_pdf_header_may_follow_junk_within_1024_bytes() -> None:
    pdf = builders.make_pdf(["Hello"])
    assert sniff(b"x" * 1000 + pdf) == "pdf"
    assert sniff(b"x" * 1100 + pdf) == "other"
    assert inspect_document(b"\r\n" * 100 + pdf, want_text=False).pages == 1


def test_a_zip_that_is_no_office_document_is_other() -> None:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("word/other.xml", "<x/>")
    assert sniff(out.getvalue()) == "other"


def test_other_is_not_readable_and_needs_no_worker() -> None:
    info = inspect_document(b"GIF89a...", want_text=True)
    assert (info.kind, info.readable, info.text) == ("other", False, None)
    assert info.error


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_pages_and_text() -> None:
    info = inspect_document(
        builders.make_pdf(["Première page", "Second page", "Third"]), want_text=True
    )
    assert (info.kind, info.readable, info.encrypted, info.pages, info.words) == (
        "pdf",
        True,
        False,
        3,
        None,
    )
    assert info.error is None
    assert "Première page" in str(info.text) and "Third" in str(info.text)


def test_text_only_when_wanted() -> None:
    info = inspect_document(builders.make_pdf(["Hello"]), want_text=False)
    assert info.readable and info.pages == 1 and info.text is None


def test_scanned_pdf_has_empty_text() -> None:
    info = inspect_document(builders.make_scanned_pdf(), want_text=True)
    assert info.readable and info.pages == 1 and info.text == ""


@pytest.mark.parametrize("aes", [True, False], ids=["AES-256", "RC4-128"])
def test_user_password_pdf_is_encrypted(aes: bool) -> None:
    info = inspect_document(builders.make_encrypted_pdf("secret", "owner", aes=aes), want_text=True)
    assert (info.readable, info.encrypted, info.pages, info.text) == (False, True, None, None)
    assert str(info.error).startswith("encrypted")


@pytest.mark.parametrize("aes", [True, False], ids=["AES-256", "RC4-128"])
def test_owner_password_only_pdf_is_readable(aes: bool) -> None:
    info = inspect_document(builders.make_owner_only_pdf(aes=aes), want_text=True)
    assert (info.readable, info.encrypted, info.pages) == (True, False, 1)
    assert "Confidential application" in str(info.text)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (builders.make_pdf_bomb, "limit reached"),
        (lambda: builders.make_nested_pdf(5000), "too deeply nested"),
        (builders.make_cyclic_pdf, "cyclic"),
        (builders.make_truncated_pdf, "truncated"),
        (lambda: builders.make_many_pages_pdf(30_000), "limit reached"),
        (lambda: b"%PDF-1.7\n", "truncated"),
    ],
    ids=["bomb", "nested", "cyclic", "truncated", "huge-page-tree", "header-only"],
)
def test_hostile_pdf_is_unreadable_quickly(build, reason: str) -> None:
    info = inspect_quickly(build())
    assert (info.kind, info.readable, info.pages, info.text) == ("pdf", False, None, None)
    assert reason in str(info.error) and "\n" not in str(info.error)


def test_content_stream_bomb_costs_only_the_text() -> None:
    info = inspect_quickly(builders.make_pdf_bomb("content"))
    assert info.readable and info.pages == 1
    assert "bomb" not in str(info.text)


def test_lying_page_count_is_not_believed() -> None:
    info = inspect_quickly(builders.make_lying_count_pdf(10**9))
    assert info.readable and info.pages == 1


def test_many_pages_are_counted() -> None:
    assert inspect_quickly(builders.make_many_pages_pdf(2_000)).pages == 2_000


# --- Active content ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "found"),
    [
        ("javascript-on-open", ("JavaScript on open",)),
        ("document-javascript", ("JavaScript on open",)),
        ("launch-on-open", ("launch action on open",)),
        ("page-automatic-action", ("JavaScript in automatic actions",)),
        ("field-javascript", ("JavaScript in automatic actions",)),
        ("link-javascript", ("JavaScript in links or form fields",)),
        ("link-launch", ("launch action in links or form fields",)),
        ("bookmark-javascript", ("JavaScript in links or form fields",)),
        ("embedded-file", ("embedded files",)),
        ("file-attachment-annotation", ("embedded files",)),
        ("open-at-first-page", ()),
        ("web-link", ()),
    ],
)
def test_active_content_is_named(kind, found) -> None:
    info = inspect_document(builders.make_active_pdf(kind), want_text=True)
    assert info.readable and info.pages == 3 and "Jane Doe" in str(info.text)
    assert info.active_content == found


def test_an_automatic_action_without_a_script_is_still_named() -> None:
    info = inspect_document(builders.make_automatic_goto_pdf(), want_text=False)
    assert info.active_content == ("automatic actions",)


def test_a_looping_action_chain_ends_and_its_script_is_found() -> None:
    info = inspect_quickly(builders.make_cyclic_action_pdf())
    assert info.active_content == ("JavaScript on open",)


def test_a_flood_of_annotations_is_not_fully_checked_but_stays_readable() -> None:
    info = inspect_quickly(builders.make_annotation_flood_pdf(30_000))
    assert info.readable and info.active_content == ("not fully checked",)


def test_word_documents_and_plain_pdfs_carry_no_active_content() -> None:
    for data in (builders.make_application_pdf(), builders.make_docx(["Hello"])):
        assert inspect_document(data, want_text=False).active_content == ()


# --- Word and OpenDocument ---------------------------------------------------------------

WORD_BUILDERS = {"docx": builders.make_docx, "odt": builders.make_odt, "doc": builders.make_doc}


@pytest.mark.parametrize("kind", WORD_BUILDERS)
@pytest.mark.parametrize("count", [500, 501])
def test_words_are_counted(kind: str, count: int) -> None:
    info = inspect_document(WORD_BUILDERS[kind](words(count)), want_text=False)
    assert (info.kind, info.readable, info.words, info.pages, info.text) == (
        kind,
        True,
        count,
        None,
        None,
    )


@pytest.mark.parametrize("kind", WORD_BUILDERS)
def test_word_body_text(kind: str) -> None:
    paragraphs = ["Key challenges for NATO", "Première réponse — été", "Ünïcödé ω"]
    info = inspect_document(WORD_BUILDERS[kind](paragraphs), want_text=True)
    assert str(info.text).split("\n")[:3] == paragraphs
    assert info.words == 10


def test_docx_text_box_fallback_is_not_counted_twice() -> None:
    xml = (
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        b'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>'
        b"<w:p><w:r><w:t>one tw</w:t></w:r><w:r><w:t>o</w:t></w:r>"
        b"<w:r><w:tab/><w:t>three</w:t></w:r></w:p>"
        b"<w:p><w:r><mc:AlternateContent><mc:Choice><w:t>box words</w:t></mc:Choice>"
        b"<mc:Fallback><w:t>box words</w:t></mc:Fallback></mc:AlternateContent></w:r>"
        b"<w:r><w:delText>deleted</w:delText></w:r></w:p></w:body></w:document>"
    )
    info = inspect_document(builders.make_docx_package(xml), want_text=True)
    assert info.text == "one two\tthree\nbox words\n" and info.words == 5


def test_odt_spaces_annotations_and_hostile_space_runs() -> None:
    ns = (
        b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    xml = (
        b"<office:document-content " + ns + b"><office:body><office:text>"
        b'<text:h>Title</text:h><text:p>one<text:s text:c="999999999"/>two<text:tab/>three'
        b"<office:annotation><text:p>a comment</text:p></office:annotation></text:p>"
        b"</office:text></office:body></office:document-content>"
    )
    info = inspect_document(builders.make_odt(content_xml=xml), want_text=True)
    assert info.words == 4 and "comment" not in str(info.text) and len(str(info.text)) < 200


@pytest.mark.parametrize(
    "build",
    [
        lambda: builders.make_doc(["secret"], encrypted=True),
        lambda: builders.make_odt(["secret"], encrypted=True),
        lambda: builders.make_ole({"EncryptionInfo": b"x", "EncryptedPackage": b"y"}),
    ],
    ids=["doc", "odt", "docx"],
)
def test_password_protected_word_files_are_encrypted(build) -> None:
    info = inspect_document(build(), want_text=True)
    assert (info.readable, info.encrypted, info.words) == (False, True, None)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: builders.make_zip_bomb("docx"), "limit reached"),
        (lambda: builders.make_zip_bomb("odt"), "limit reached"),
        (lambda: builders.make_docx_package(builders.ENTITY_BOMB_XML), "DOCTYPE"),
        (lambda: builders.make_docx_package(b"<w:document>unclosed"), "damaged"),
        (lambda: builders.make_doc(["Hello"])[:-512], "damaged"),  # FAT cut off
    ],
    ids=["docx-zip-bomb", "odt-zip-bomb", "billion-laughs", "bad-xml", "truncated-doc"],
)
def test_hostile_word_files_are_unreadable_quickly(build, reason: str) -> None:
    info = inspect_quickly(build())
    assert not info.readable and info.words is None
    assert reason in str(info.error)


# --- The worker --------------------------------------------------------------------------


def test_worker_is_memory_limited() -> None:
    (pid,) = worker_pids()
    limits = Path(f"/proc/{pid}/limits").read_text()
    line = next(line for line in limits.splitlines() if line.startswith("Max address space"))
    assert line.split()[3] == str(1 << 30)


def test_timeout_replaces_the_worker_which_keeps_serving() -> None:
    (before,) = worker_pids()
    slow = builders.make_many_pages_pdf(4_900)  # about 0.25 s of parsing, under the page limit
    started = time.monotonic()
    info = inspect_document(slow, want_text=False, timeout_s=0.02)
    assert time.monotonic() - started < 1.0
    assert (info.readable, info.error) == (False, "timed out")
    assert before not in worker_pids()
    assert inspect_document(builders.make_pdf(["after"]), want_text=True).text == "after"


def test_text_timeout_keeps_the_page_count() -> None:
    started = time.monotonic()
    info = inspect_document(builders.make_slow_text_pdf(50), want_text=True, timeout_s=1.0)
    assert time.monotonic() - started < 2.0
    assert (info.readable, info.pages, info.text) == (True, 50, None)
    assert info.error == "text not extracted: timed out"
    assert inspect_document(builders.make_pdf(["after"]), want_text=False).pages == 1


def test_worker_killed_between_calls_is_replaced() -> None:
    (pid,) = worker_pids()
    gone = os.pidfd_open(pid)
    os.kill(pid, signal.SIGKILL)
    select.select([gone], [], [], 10)  # readable once the worker has exited
    os.close(gone)
    info = inspect_document(builders.make_pdf(["survivor"]), want_text=True)
    assert info.readable and info.text == "survivor"


def test_worker_crash_mid_inspection_is_a_verdict_not_an_exception() -> None:
    (pid,) = worker_pids()
    results: list[DocumentInfo] = []
    slow = builders.make_slow_text_pdf(50)  # about 15 s of text extraction
    thread = threading.Thread(
        target=lambda: results.append(inspect_document(slow, want_text=True, timeout_s=60))
    )
    thread.start()
    deadline = time.monotonic() + 5
    # Wait until the worker is busy with the document (running, not waiting on its socket).
    while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "R":
        assert time.monotonic() < deadline
        time.sleep(0.001)
    os.kill(pid, signal.SIGKILL)
    thread.join(10)
    # Killed while counting pages (a few milliseconds) or, far more likely, extracting text.
    assert results[0].error in ("worker crashed", "text not extracted: worker crashed")
    assert results[0].text is None
    assert inspect_document(builders.make_pdf(["next"]), want_text=False).pages == 1


def test_concurrent_threads_are_served_one_at_a_time() -> None:
    documents = {n: builders.make_many_pages_pdf(n) for n in (1, 2, 3, 4)}
    failures: list[str] = []

    def work(n: int) -> None:
        for _ in range(20):
            info = inspect_document(documents[n], want_text=False)
            if info.pages != n:
                failures.append(f"{n}: {info}")

    threads = [threading.Thread(target=work, args=(n,)) for n in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_forked_child_gets_its_own_worker() -> None:
    (parent_worker,) = worker_pids()
    pdf = builders.make_pdf(["forked"])
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        ok = (
            inspect_document(pdf, want_text=True).text == "forked"
            and parent_worker not in worker_pids()
        )
        shutdown_worker()
        os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert worker_pids() == {parent_worker}
    assert inspect_document(pdf, want_text=False).pages == 1


def test_shutdown_stops_the_worker_and_the_next_call_starts_one() -> None:
    shutdown_worker()
    assert worker_pids() == set()
    assert inspect_document(builders.make_pdf(["again"]), want_text=False).readable
    assert len(worker_pids()) == 1


# --- Properties --------------------------------------------------------------------------

_SEEDS = [
    builders.make_pdf(["Hello"]),
    builders.make_docx(["Hello"]),
    builders.make_odt(["Hello"]),
    builders.make_doc(["Hello"]),
]
_MAGIC = [b"%PDF-1.7\n", b"PK\x03\x04", bytes.fromhex("D0CF11E0A1B11AE1")]


@st.composite
def damaged_documents(draw: st.DrawFn) -> bytes:
    """Real documents with bytes overwritten, cut or inserted, and magic numbers with noise."""
    if draw(st.booleans()):
        return draw(st.sampled_from(_MAGIC)) + draw(st.binary(max_size=2000))
    data = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position : position + draw(st.integers(0, 64))] = draw(st.binary(max_size=64))
    return bytes(data[: draw(st.integers(1, len(data)))])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=4096), damaged_documents()), st.booleans())
def test_arbitrary_bytes_never_raise(data: bytes, want_text: bool) -> None:
    kind = sniff(data)
    info = inspect_document(data, want_text=want_text, timeout_s=QUICK_S)
    assert info.kind == kind
    assert info.readable or info.error
    assert info.text is None or len(info.text) <= 2_000_000
