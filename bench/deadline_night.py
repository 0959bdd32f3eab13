"""Deadline night: how fast intake-bot clears a burst of applications, against its servers' limit.

Starts a real Dovecot and an aiosmtpd sink on 127.0.0.1 (the test suite's own servers, from
``tests/servers.py``), loads realistic applications with MULTIAPPEND and measures, with the
bot always running as a separate process (``intake-bot run --once`` or the service):

- throughput: the bot against the *raw chain* on the same servers and messages (imapclient
  and smtplib alone: fetch every message, send one notice each, move them; no processing);
- latency: the service idle on IDLE, applications appended at a steady rate, the time from
  APPEND to the notice reaching the sink;
- memory: the bot's peak RSS for growing numbers of waiting messages.

Prints a human summary and, as its last line, one JSON object. A script, not a test:
``python bench/deadline_night.py [--messages N] [--quick] [--profile FILE]``. Network only
to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: bench/ and tests/ import from the checkout

from aiosmtpd.smtp import SMTP as SMTPServer  # noqa: E402
from aiosmtpd.smtp import Envelope, Session  # noqa: E402

from bench.corpus import ANSWERED, BOT_ADDRESS, messages  # noqa: E402
from tests.servers import DovecotServer, SinkHandler, SmtpSink, find_dovecot, start_sink  # noqa: E402

PASSWORD_ENV = "BENCH_IMAP_PASSWORD"
BATCH = 50  # messages per FETCH, MOVE and MULTIAPPEND of the raw chain and the loader
RAW_FOLDER = "RawChain"
TARGETS = {"ratio": 0.6, "burst_seconds": 180.0, "latency_p95_s": 2.0, "peak_rss_mb": 200.0}
_IN_REPLY_TO = re.compile(rb"^In-Reply-To:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Plan:
    """What one run measures."""

    messages: int
    rate: float  # applications per second in the latency phase
    latency_seconds: float
    memory_sizes: tuple[int, ...]


FULL = Plan(messages=2000, rate=5.0, latency_seconds=60.0, memory_sizes=(100, 1000, 10_000))
QUICK = Plan(messages=300, rate=5.0, latency_seconds=15.0, memory_sizes=(100, 1000))


# --- the sink ---------------------------------------------------------------------------


class ArrivalSink(SinkHandler):
    """A sink handler that notes when each notice arrives and what it answers, not its bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.arrivals: dict[str, float] = {}  # In-Reply-To -> time.monotonic() on arrival

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        """Count the notice and note the Message-ID it answers."""
        content = envelope.original_content or b""
        match = _IN_REPLY_TO.search(content, 0, content.find(b"\r\n\r\n"))
        if match:
            self.arrivals[match.group(1).decode("ascii", "replace")] = time.monotonic()
        self.count += 1
        return "250 OK"


# --- the bot as a separate process ------------------------------------------------------


@dataclass
class BotRun:
    """How one bot process went."""

    seconds: float
    exit_code: int
    peak_rss_mb: float  # the bot process's own peak (VmHWM), the figure the targets are about
    worker_rss_mb: float  # the highest peak of its children (the document inspection worker)
    tree_rss_mb: float  # the highest sampled sum of the bot's and its children's RSS
    cpu_seconds: float  # user + system time of the bot and its worker
    log: str


class BotProcess:
    """``intake-bot --config CONFIG ARGS...`` with its log in a file and its memory sampled."""

    def __init__(self, config: Path, args: Sequence[str], env: dict[str, str],
                 profile: Path | None = None, checkout: Path | None = None) -> None:
        self.log_path = config.parent / "bot.log"
        command = [sys.executable, "-m", "intake_bot", "--config", str(config), *args]
        if profile is not None:
            command[1:1] = ["-m", "pyinstrument", "-r", "text", "-o", str(profile)]
        self._log = self.log_path.open("wb")
        self._cpu_before = _children_cpu()
        self.started = time.monotonic()
        # In ``checkout`` (a folder holding an intake_bot package), ``-m`` runs that code.
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT, env={**os.environ, **env},
                                        cwd=checkout)
        self._peaks: dict[int, int] = {}  # pid -> VmHWM in KiB, as last read
        self._tree_peak_kb = 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, timeout_s: float) -> None:
        """Wait until the bot's log matches ``pattern`` (e.g. its first cycle's line)."""
        deadline = time.monotonic() + timeout_s
        while not re.search(pattern, self.log_text(), re.MULTILINE):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the bot did not log {pattern!r}:\n{self.log_text()[-3000:]}")
            time.sleep(0.05)

    def finish(self, stop: bool = False) -> BotRun:
        """Wait for the bot to exit (after SIGTERM when ``stop``); its figures."""
        if stop:
            self.process.send_signal(signal.SIGTERM)
        # Keep sampling until the very end: a zombie's /proc status no longer has VmHWM, so
        # the last reading before the exit is the peak.
        self.process.wait()
        seconds = time.monotonic() - self.started
        self._done.set()
        self._sampler.join()
        self._log.close()
        bot = self._peaks.get(self.process.pid, 0)
        workers = [kb for pid, kb in self._peaks.items() if pid != self.process.pid]
        return BotRun(seconds=seconds, exit_code=self.process.returncode,
                      peak_rss_mb=bot / 1024, worker_rss_mb=max(workers, default=0) / 1024,
                      tree_rss_mb=self._tree_peak_kb / 1024,
                      cpu_seconds=_children_cpu() - self._cpu_before, log=self.log_text())

    def _sample(self) -> None:
        while not self._done.wait(0.05):
            total = 0
            for pid, (rss, hwm) in _tree_memory(self.process.pid).items():
                self._peaks[pid] = max(self._peaks.get(pid, 0), hwm)
                total += rss
            self._tree_peak_kb = max(self._tree_peak_kb, total)


def _children_cpu() -> float:
    """CPU seconds of this process's reaped children (the bot, and the worker it reaped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tree_memory(pid: int) -> dict[int, tuple[int, int]]:
    """(VmRSS, VmHWM) in KiB of a process and of its direct children; empty once it is gone."""
    try:
        # Per thread: the worker is the child of whichever thread first inspected a document.
        children = [child for task in Path(f"/proc/{pid}/task").iterdir()
                    for child in (task / "children").read_text().split()]
    except OSError:
        return {}
    found = {}
    for each in (pid, *map(int, children)):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
        if len(values) == 2:
            found[each] = (int(values["VmRSS"]), int(values["VmHWM"]))
    return found


# --- the bench ----------------------------------------------------------------------------


@dataclass
class Bench:
    """The running servers and a scratch folder; one deployment folder per bot run."""

    dovecot: DovecotServer
    sink: SmtpSink
    handler: ArrivalSink
    root: Path
    deployments: int = 0

    def deployment(self) -> Path:
        """Write a fresh configuration (register, documents, log under it); return its path."""
        self.deployments += 1
        folder = self.root / f"bot-{self.deployments}"
        folder.mkdir()
        shutil.copy(REPO / "config" / "vacancies.toml", folder / "vacancies.toml")
        config = folder / "intake.toml"
        config.write_text(textwrap.dedent(f"""\
            [mailbox]
            url = "{self.dovecot.url()}"
            password_env = "{PASSWORD_ENV}"
            [smtp]
            url = "{self.sink.url()}"
            from = "NATO PA Recruitment <{BOT_ADDRESS}>"
            [register]
            path = "var/register.db"
            documents = "var/documents"
            [schedule]
            poll_seconds = 60
            [vacancies]
            path = "vacancies.toml"
            [notices]
            # Out of the way: the burst measures throughput, and every candidate is at
            # example.net, which max_per_domain_per_hour would hold to 20 an hour.
            max_per_domain_per_hour = 1_000_000
            max_per_hour = 1_000_000
            """), encoding="utf-8")
        return config

    def bot(self, config: Path, *args: str, profile: Path | None = None,
            checkout: Path | None = None) -> BotProcess:
        return BotProcess(config, args, {PASSWORD_ENV: self.dovecot.password}, profile, checkout)

    def load(self, count: int, run: str) -> tuple[list[str], float]:
        """Empty the servers' folders and load ``count`` messages; returns (answered ids, s)."""
        self.dovecot.reset()
        answered: list[str] = []

        def stream() -> Iterator[tuple[bytes, Any]]:
            for message in messages(count, run):
                if message.kind in ANSWERED:
                    answered.append(message.message_id)
                yield message.raw, message.received_at

        start = time.perf_counter()
        self.dovecot.append_many("INBOX", stream(), chunk=BATCH)
        return answered, time.perf_counter() - start

    def move_all(self, source: str, target: str) -> None:
        """Put every message of ``source`` into ``target`` (one server-side MOVE)."""
        with self.dovecot.client() as client:
            if not client.folder_exists(target):
                client.create_folder(target)
            client.select_folder(source)
            if client.search(["ALL"]):
                client.move("1:*", target)


def raw_chain(bench: Bench, move_each: bool = False) -> tuple[int, float]:
    """Fetch, answer and move every waiting message with imapclient and smtplib alone.

    The floor for the bot's work on the same servers: FETCH ``BODY.PEEK[]`` 50 at a time,
    one notice per message on one SMTP connection, one UID MOVE per batch (per message
    with ``move_each``, as the bot moves them). Returns (messages, seconds).
    """
    notice = _sample_notice()
    with bench.dovecot.client() as imap:
        if not imap.folder_exists(RAW_FOLDER):
            imap.create_folder(RAW_FOLDER)
        start = time.perf_counter()
        imap.select_folder("INBOX")
        uids = sorted(imap.search(["UNDELETED"]))
        smtp = smtplib.SMTP(bench.sink.host, bench.sink.port)
        for first in range(0, len(uids), BATCH):
            batch = uids[first : first + BATCH]
            fetched = imap.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
            for uid in batch:
                if fetched[uid][b"BODY[]"]:
                    smtp.sendmail(BOT_ADDRESS, ["candidate@example.net"], notice)
                if move_each:
                    imap.move([uid], RAW_FOLDER)
            if not move_each:
                imap.move(batch, RAW_FOLDER)
        smtp.quit()
        seconds = time.perf_counter() - start
    return len(uids), seconds


def _sample_notice() -> bytes:
    """A notice of the size the bot sends (two languages, about 3 KB)."""
    message = EmailMessage()
    message["From"] = f"NATO PA Recruitment <{BOT_ADDRESS}>"
    message["To"] = "candidate@example.net"
    message["Subject"] = "Application received / Candidature reçue: DRP-0001"
    message["Message-ID"] = "<raw-chain@example.org>"
    message["In-Reply-To"] = "<candidate@example.net>"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content("Dear candidate, we received your application.\n" * 60)
    return message.as_bytes(policy=policy.SMTP)  # CRLF, as on the wire


# --- phases -------------------------------------------------------------------------------


@dataclass
class Report:
    """Every figure of one run."""

    plan: Plan
    figures: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str) -> None:
        """Print one line of the human summary at once (a full run takes minutes)."""
        print(text, flush=True)


def throughput(bench: Bench, report: Report, profile: Path | None) -> None:
    """The bot against the raw chain, same servers, same messages.

    The raw chain runs before and after the bot and the faster run counts; then once more
    moving one message at a time, for comparison.
    """
    count = report.plan.messages
    answered, load_s = bench.load(count, "tput")
    report.say(f"loaded {count} messages ({_kib_per_message(bench)} KiB each on average) "
               f"with MULTIAPPEND in {load_s:.1f} s ({count / load_s:.0f}/s)")
    raws = [_raw_rate(bench, count)]
    bench.move_all(RAW_FOLDER, "INBOX")
    bench.handler.count = 0
    config = bench.deployment()
    run = bench.bot(config, "run", "--once", profile=profile).finish()
    check_run(run, config, bench, len(answered), report)
    bench.move_all("Processed", "INBOX")
    raws.append(_raw_rate(bench, count))
    bench.move_all(RAW_FOLDER, "INBOX")
    move_each = _raw_rate(bench, count, move_each=True)
    bot_rate = count / run.seconds
    raw_rate = max(raws)  # the faster raw run: the stricter comparison
    report.say(f"raw chain: {raws[0]:.0f} then {raws[1]:.0f} messages/s (fetch 50 at a time, "
               f"one notice each, one MOVE per 50); {move_each:.0f}/s moving one at a time")
    report.say(f"bot run --once: {count} messages in {run.seconds:.1f} s = {bot_rate:.0f} "
               f"messages/s, {bot_rate / raw_rate:.2f} x the raw chain"
               + (" (under pyinstrument)" if profile else ""))
    report.say(f"  bot CPU (with its inspection worker): {run.cpu_seconds / count * 1000:.1f} ms "
               f"a message, {run.cpu_seconds / run.seconds:.2f} cores busy on average")
    report.figures.update(messages=count, bot_msgs_per_s=round(bot_rate, 1),
                          bot_seconds=round(run.seconds, 2),
                          bot_cpu_ms_per_msg=round(run.cpu_seconds / count * 1000, 1),
                          raw_chain_msgs_per_s=round(raw_rate, 1),
                          raw_chain_runs_msgs_per_s=[round(r, 1) for r in raws],
                          raw_chain_move_each_msgs_per_s=round(move_each, 1),
                          ratio=round(bot_rate / raw_rate, 3),
                          ratio_move_each=round(bot_rate / move_each, 3),
                          profiled=profile is not None)
    shutil.rmtree(config.parent)


def _raw_rate(bench: Bench, expected: int, move_each: bool = False) -> float:
    bench.handler.count = 0
    done, seconds = raw_chain(bench, move_each)
    if done != expected or bench.handler.count != expected:
        raise SystemExit(f"raw chain: {done} messages, {bench.handler.count} notices, "
                         f"expected {expected}")
    return done / seconds


def _kib_per_message(bench: Bench) -> str:
    files = [p for p in (bench.dovecot.maildir / "new").iterdir()] + [
        p for p in (bench.dovecot.maildir / "cur").iterdir()]
    return f"{sum(p.stat().st_size for p in files) / max(1, len(files)) / 1024:.0f}"


def check_run(run: BotRun, config: Path, bench: Bench, answered: int, report: Report) -> None:
    """Stop the benchmark when the bot did not handle, answer and move every message."""
    left = bench.dovecot.uids("INBOX")
    statuses = _statuses(config)
    if run.exit_code != 0 or left or bench.handler.count != answered:
        raise SystemExit(f"bot run failed: exit {run.exit_code}, {len(left)} left in the inbox, "
                         f"{bench.handler.count}/{answered} notices\n{run.log[-3000:]}")
    report.say("  register: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))


def _statuses(config: Path) -> Counter[str]:
    db = sqlite3.connect(config.parent / "var" / "register.db")
    try:
        rows = db.execute("SELECT status, reasons FROM submissions").fetchall()
    finally:
        db.close()
    return Counter(status + ("" if reasons == "[]" else f" {','.join(json.loads(reasons))}")
                   for status, reasons in rows)


def latency(bench: Bench, report: Report) -> None:
    """The service idle on IDLE; applications appended at a steady rate; APPEND -> notice."""
    plan = report.plan
    count = round(plan.rate * plan.latency_seconds)
    bench.dovecot.reset()
    bench.handler.count = 0
    bench.handler.arrivals.clear()
    config = bench.deployment()
    service = bench.bot(config, "run")
    appended: dict[str, float] = {}
    try:
        service.wait_for_log(r"cycle: 0 messages", 30)
        time.sleep(1.0)  # the IDLE watcher is now waiting on its own connection
        with bench.dovecot.client() as client:
            start = time.monotonic()
            for index, message in enumerate(messages(count, "latency")):
                time.sleep(max(0.0, start + index / plan.rate - time.monotonic()))
                if message.kind in ANSWERED:
                    appended[message.message_id] = time.monotonic()
                client.append("INBOX", message.raw, msg_time=message.received_at)
        deadline = time.monotonic() + 60
        while (set(appended) - set(bench.handler.arrivals)) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        run = service.finish(stop=True)
    missing = set(appended) - set(bench.handler.arrivals)
    if missing or run.exit_code != 0:
        raise SystemExit(f"service: {len(missing)} notices missing, exit {run.exit_code}\n"
                         f"{run.log[-3000:]}")
    delays = sorted(bench.handler.arrivals[mid] - t for mid, t in appended.items())
    p50, p95 = _percentile(delays, 50), _percentile(delays, 95)
    report.say(f"latency (service on IDLE, {plan.rate:g}/s for {plan.latency_seconds:g} s, "
               f"{len(delays)} notices): p50 {p50:.2f} s, p95 {p95:.2f} s, max {delays[-1]:.2f} s"
               f"; service peak RSS {run.peak_rss_mb:.0f} MB")
    report.figures.update(latency_p50_s=round(p50, 3), latency_p95_s=round(p95, 3),
                          latency_max_s=round(delays[-1], 3), latency_rate_per_s=plan.rate,
                          latency_notices=len(delays),
                          service_peak_rss_mb=round(run.peak_rss_mb, 1))
    shutil.rmtree(config.parent)


def _percentile(ordered: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[int(rank) - 1]


def memory(bench: Bench, report: Report) -> None:
    """The bot's peak RSS (and burst time) for each number of waiting messages."""
    peaks: dict[str, float] = {}
    for count in report.plan.memory_sizes:
        answered, _ = bench.load(count, f"m{count}")
        bench.handler.count = 0
        config = bench.deployment()
        run = bench.bot(config, "run", "--once").finish()
        check_run(run, config, bench, len(answered), report)
        peaks[str(count)] = round(run.peak_rss_mb, 1)
        report.say(f"{count:>6} waiting: cleared in {run.seconds:.1f} s ({count / run.seconds:.0f}"
                   f"/s), bot peak RSS {run.peak_rss_mb:.0f} MB (inspection worker "
                   f"{run.worker_rss_mb:.0f} MB, both together at most {run.tree_rss_mb:.0f} MB)")
        report.figures["burst"] = {"messages": count, "seconds": round(run.seconds, 1),
                                   "msgs_per_s": round(count / run.seconds, 1)}
        shutil.rmtree(config.parent)
    report.figures.update(peak_rss_mb=max(peaks.values()), peak_rss_mb_by_messages=peaks)


def verdicts(figures: dict[str, Any]) -> dict[str, bool | None]:
    """Each target met or not (None: this run did not measure it, e.g. no 10,000 with --quick)."""
    burst = figures["burst"]
    return {
        "ratio>=0.6": figures["ratio"] >= TARGETS["ratio"],
        "10000_in_180s": (burst["seconds"] < TARGETS["burst_seconds"]
                          if burst["messages"] >= 10_000 else None),
        "p95<=2s": figures["latency_p95_s"] <= TARGETS["latency_p95_s"],
        "rss<200MB": figures["peak_rss_mb"] < TARGETS["peak_rss_mb"],
    }


@contextmanager
def running_bench(prefix: str) -> Iterator[Bench]:
    """Dovecot and the sink on 127.0.0.1 and a scratch folder, as one :class:`Bench`.

    Everything is stopped and removed on the way out; without Dovecot, exits with one line.
    """
    binary = find_dovecot()
    if binary is None:
        raise SystemExit("Dovecot is not installed: apt-get install -y --no-install-recommends "
                         "dovecot-imapd (as root), or run bash .ci/install-deps")
    dovecot, handler = DovecotServer(binary), ArrivalSink()
    sink = start_sink(handler)
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        dovecot.start()
        yield Bench(dovecot, sink, handler, root)
    finally:
        sink.stop()
        dovecot.close()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, help="messages in the throughput phase "
                        f"(default {FULL.messages}, {QUICK.messages} with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="a shorter run (about two minutes): fewer messages, a 15 s latency "
                             "phase, memory at 100 and 1,000 waiting messages")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="run the throughput phase's bot under pyinstrument, text report "
                             "to FILE (its throughput is then not comparable)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.messages:
        plan = Plan(args.messages, plan.rate, plan.latency_seconds, plan.memory_sizes)
    report = Report(plan)
    started, load_before = time.monotonic(), os.getloadavg()[0]
    with running_bench("intake-bench-") as bench:
        report.say(f"deadline night: {os.cpu_count()} CPUs, load average {load_before:.2f}, "
                   f"Python {sys.version.split()[0]}, {'quick' if args.quick else 'full'} run")
        throughput(bench, report, args.profile)
        latency(bench, report)
        memory(bench, report)
    figures = report.figures
    figures.update(cpus=os.cpu_count(), quick=args.quick,
                   loadavg_start=round(load_before, 2), loadavg_end=round(os.getloadavg()[0], 2),
                   bench_seconds=round(time.monotonic() - started, 1))
    figures["targets_met"] = verdicts(figures)
    report.say("targets: " + ", ".join(f"{name} {'-' if met is None else 'yes' if met else 'NO'}"
                                       for name, met in figures["targets_met"].items()))
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
