"""The inspection worker holds no secret and is the first to go when memory runs out."""

from __future__ import annotations

from pathlib import Path

from intake_bot.documents import inspect_document, shutdown_worker
from tests.mail import blank_pdf

SECRET = "mailbox-Secret-2c9d41"


def running_worker() -> Path:
    """The /proc folder of the inspection worker this process runs, started if need be."""
    assert inspect_document(blank_pdf(), want_text=False).readable
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            if b"intake_bot.documents.worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return Path(f"/proc/{pid}")
    raise AssertionError("no inspection worker running")


def test_the_worker_gets_neither_password_nor_any_other_variable_off_the_list(monkeypatch):
    monkeypatch.setenv("INTAKE_MAILBOX_PASSWORD", SECRET)
    monkeypatch.setenv("INTAKE_SMTP_PASSWORD", SECRET)
    monkeypatch.setenv("INTAKE_OAUTH_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    shutdown_worker()  # the next inspection starts a worker under this environment
    entries = (running_worker() / "environ").read_bytes().split(b"\0")
    environment = dict(entry.decode().partition("=")[::2] for entry in entries if entry)
    assert SECRET not in "".join(f"{k}={v}" for k, v in environment.items())
    assert environment.get("LC_ALL") == "C.UTF-8"
    assert set(environment) <= {"PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR"} | {
        name for name in environment if name.startswith(("LC_", "PYTHON"))}


def test_the_worker_is_the_first_the_kernel_kills_when_memory_runs_out():
    assert (running_worker() / "oom_score_adj").read_text().strip() == "1000"
