"""The ``intake-bot`` command line: thin commands over the library, one-line errors.

Each command's docstring is its ``--help``. Every failure that an operator can cause
(configuration, servers, credentials, files) ends with one line on stderr naming the
problem and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from intake_bot import __version__
from intake_bot.clock import Clock, now_utc
from intake_bot.config import Config, ConfigError, default_config_path, load_config
from intake_bot.mailbox import MailboxError
from intake_bot.output import LIST_COLUMNS, Rows, decoded, render_rows, write_rows
from intake_bot.recruiters.errors import RecruiterError, RequestError
from intake_bot.recruiters.review import DEFAULT_HOST, DEFAULT_PORT
from intake_bot.recruiters.stats import plural
from intake_bot.register import STATUSES, Register, RegisterError
from intake_bot.scan import Clamd, ScanError, check_clamd
from intake_bot.transport import PermanentFailure, TemporaryFailure

if TYPE_CHECKING:  # the commands import what they use, so that each starts quickly
    from intake_bot.recruiters.purge import PurgeOutcome

EXIT_CONFIG = 2
EXIT_FAILURE = 1


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Print one line on stderr and exit."""
    click.echo(f"intake-bot: error: {message}", err=True)
    sys.exit(code)


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors an operator can cause into one line and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ConfigError, RequestError) as error:
            fail(str(error), EXIT_CONFIG)
        except (RegisterError, MailboxError, TemporaryFailure, PermanentFailure,
                RecruiterError, ScanError) as error:
            fail(str(error))
        except sqlite3.Error as error:
            fail(f"register: {error}")
        except BrokenPipeError:
            # The reader went away (``intake-bot register list | head -1``): click ends the
            # command quietly, exit status 1, as Python's documentation advises.
            raise
        except OSError as error:
            fail(f"{error.filename or ''}: {error.strerror or error}".lstrip(": "))

    return wrapper


class Context:
    """What every command shares: the configuration, loaded on first use, and the clock."""

    def __init__(self, config_path: Path, clock: Clock = now_utc) -> None:
        self.config_path = config_path
        self.clock = clock
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def checked_config(self) -> Config:
        """The configuration, once it passed what ``check-config`` checks: for the commands
        that handle mail, which refuse to start on anything ``check-config`` rejects."""
        from intake_bot.preflight import preflight

        preflight(self.config, self.clock())
        return self.config

    @contextmanager
    def register(self) -> Iterator[Register]:
        """The register, closed again on the way out."""
        store = Register(self.config.register_path)
        try:
            yield store
        finally:
            store.close()


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Configuration file [default: $INTAKE_BOT_CONFIG, else config/intake.toml].")
@click.option("-v", "--verbose", is_flag=True, help="Log every step, not just decisions.")
@click.option("-q", "--quiet", is_flag=True, help="Log warnings and errors only.")
@click.version_option(__version__, prog_name="intake-bot")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: bool, quiet: bool) -> None:
    """intake-bot: match, check, register and answer job applications sent by e-mail."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The one place commands take the time from: tests hand in a fixed clock as
    # ``CliRunner().invoke(cli, args, obj=clock)``, so no verdict depends on the hour.
    clock = ctx.obj if callable(ctx.obj) else now_utc
    ctx.obj = Context(config_path or default_config_path(), clock)


@cli.command()
@click.option("--once", is_flag=True, help="Run one full cycle, then exit.")
@pass_context
@one_line_errors
def run(context: Context, once: bool) -> None:
    """Run the service, or one cycle with --once.

    Poll the mailbox and handle every application: match, check, register, answer.
    """
    from intake_bot.pipeline import run_cycle
    from intake_bot.recruiters.housekeeping import after_cycle
    from intake_bot.service import Service, stopping_on_signals

    config = context.checked_config()
    if once:
        stop = threading.Event()
        with stopping_on_signals(stop) as received:
            summary = run_cycle(config, stop, progress=_progress_printer(), clock=context.clock)
        click.echo(summary.line())
        if received:
            # 128 + the signal, as a shell reports a process a signal ended: 130, 143.
            sys.exit(128 + received[0])
        purged, digest_sent = after_cycle(config, context.clock())
        for outcome in purged:
            click.echo(f"retention of {outcome.criteria.vacancy}: {outcome.line()}")
        if digest_sent is not None:
            click.echo(f"digest sent to {', '.join(config.digest_recruiters)}: "
                       f"{digest_sent.subject}")
        if summary.unavailable:
            # Every message is registered and its notice queued; the operator must still know.
            fail(f"notices not sent: {summary.unavailable}")
        if summary.scan_unavailable:
            fail(f"{plural(summary.unscanned, 'message')} left in the inbox unscanned: "
                 f"{summary.scan_unavailable}")
        return
    Service(config, clock=context.clock).run()


def _progress_printer(every: int = 100) -> Callable[[int], None]:
    def progress(count: int) -> None:
        if count % every == 0:
            click.echo(f"... {count} messages handled", err=True)

    return progress


@cli.command("check-config")
@click.option("--connect", is_flag=True,
              help="Also connect and log in to the mailbox and the SMTP server.")
@pass_context
@one_line_errors
def check_config(context: Context, connect: bool) -> None:
    """Check everything a cycle needs; summarise it.

    The configuration, the vacancies, the places the bot writes, the secrets it reads and
    every notice template; then each vacancy with its deadline and rules. A problem is one
    line naming the file, key and line, exit status 2.
    """
    from intake_bot.describe import describe_config
    from intake_bot.preflight import preflight

    config = context.config
    rendered = preflight(config, context.clock())
    for line in describe_config(config, context.clock()):
        click.echo(line)
    click.echo(f"\ntemplates: {rendered} notices rendered without error")
    if connect:
        _check_connections(config, context.clock)
    click.echo("configuration OK")


def _check_connections(config: Config, clock: Clock) -> None:
    """Sign in to both servers and ask clamd, each in one line; the first failure ends the command.

    A token sign-in shows who signed in, by which mechanism and until when the token is good.
    """
    from intake_bot.mailbox import open_mailbox
    from intake_bot.transport import open_transport

    mailbox = open_mailbox(config, clock)
    try:
        who = mailbox.connect()
        click.echo(f"mailbox: connected and {_how(who)} ({config.mailbox_url})")
    finally:
        mailbox.close()
    transport = open_transport(config, clock)
    try:
        who = transport.connect()
        click.echo(f"smtp: connected{' and ' + _how(who) if who else ''} ({config.smtp_url})")
    finally:
        transport.close()
    if config.clamd is not None:
        line, warning = check_clamd(Clamd(config.clamd, config.scan_timeout_seconds), clock(),
                                    config.max_signature_age_days)
        click.echo(line)
        if warning:
            click.echo(f"warning: {warning}")


def _how(who: str) -> str:
    """``logged in`` for a password, ``signed in as USER by MECHANISM (token ...)`` for a token."""
    return "logged in" if who.endswith(" by password") else f"signed in as {who}"


@cli.command()
@pass_context
@one_line_errors
def demo(context: Context) -> None:
    """Run one cycle on the sample applications.

    Deliver the shipped samples into the embedded Maildir, run one cycle and show the
    decisions.
    """
    from intake_bot import demo as demo_module
    from intake_bot.pipeline import run_cycle

    config = context.config
    if not config.mailbox_url.startswith("maildir:"):
        fail(f"{config.path}: [mailbox] url: the demo only runs on the embedded maildir: "
             "mailbox, never on a real one", EXIT_CONFIG)
    context.checked_config()
    maildir = Path(config.mailbox_url[len("maildir:"):])
    delivered = demo_module.deliver(maildir)
    click.echo(f"delivered {len(delivered)} sample applications into {_as_typed(maildir)}")
    for sample in delivered:
        click.echo(f"  {sample.file.name}: {sample.what}")
    summary = run_cycle(config, clock=context.clock)
    click.echo("")
    with context.register() as store:
        rows = [row for submission_id in summary.registered
                if (row := store.submission(submission_id)) is not None]
    if rows:
        click.echo(render_rows(rows, "table"))
        click.echo("")
    click.echo(summary.line())
    click.echo(f"register: {_as_typed(config.register_path)}")
    click.echo(f"notices:  outbox:{_as_typed(Path(config.smtp_url[len('outbox:'):]))}"
               if config.smtp_url.startswith("outbox:") else f"notices:  {config.smtp_url}")


def _as_typed(path: Path) -> Path:
    """``path`` relative to the working folder when it lies inside it, as an operator types it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


@cli.command()
def rules() -> None:
    """List every rule and its reason codes.

    Each rule with its name, what it checks and the reason codes it reports.
    """
    from intake_bot.describe import describe_rules

    for line in describe_rules():
        click.echo(line)


@cli.group()
def register() -> None:
    """Review the intake register."""


@register.command("list")
@click.option("--vacancy", help="Only this vacancy id.")
@click.option("--status", help=f"Only this status ({', '.join(STATUSES)}).")
@click.option("--reason", help="Only submissions with this reason code.")
@click.option("--flag", help="Only submissions with this flag.")
@click.option("--since", help="Received at or after this date or date-time (without an offset: "
                              "the vacancy's local time, else [digest] timezone).")
@click.option("--until", help="Received before this date or date-time (same rules as --since).")
@click.option("--unreached", is_flag=True,
              help="Only submissions whose notice never reached the candidate (bounced or "
                   "failed), with the notice's status and error.")
@click.option("--sort", type=click.Choice(["id", "received_at", "reference", "status",
                                           "vacancy_id", "sender"]), default="id",
              show_default=True, help="Order of the rows.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True,
              help="A table to read, CSV, or JSON (reasons, flags and attachments as arrays).")
@pass_context
@one_line_errors
def register_list(context: Context, vacancy: str | None, status: str | None, reason: str | None,
                  flag: str | None, since: str | None, until: str | None, unreached: bool,
                  sort: str, fmt: str) -> None:
    """List submissions, oldest first.

    Filtered by vacancy, status, reason, flag, dates or candidates never reached; rows are
    written as they are read, so a register of any size lists in constant memory.
    """
    from intake_bot.recruiters.filters import select

    with context.register() as store:
        chosen = select(context.config, store, vacancy=vacancy, status=status, reason=reason,
                        flag=flag, since=since, until=until)

        def open_rows() -> Rows:
            cursor = store.submissions_cursor(chosen.vacancy, chosen.status, chosen.reason,
                                              chosen.flag, chosen.since, chosen.until, sort,
                                              unreached)
            return [column[0] for column in cursor.description], cursor

        columns = LIST_COLUMNS + (("notice_status", "notice_error") if unreached else ())
        write_rows(open_rows, fmt, sys.stdout, columns)


@register.command("show")
@click.argument("submission_id", type=int)
@pass_context
@one_line_errors
def register_show(context: Context, submission_id: int) -> None:
    """Show everything about one submission.

    Its decision, documents and notices, as JSON.
    """
    with context.register() as store:
        row = store.submission(submission_id)
        if row is None:
            fail(f"no submission with id {submission_id}")
        replies = store.replies_for(submission_id)
    record = decoded(row)
    record["replies"] = replies
    click.echo(json.dumps(record, ensure_ascii=False, indent=2))


@register.command("check")
@pass_context
@one_line_errors
def register_check(context: Context) -> None:
    """Verify the register and every file it names.

    SQLite's own checks, then every archived message and document hashed again; exit
    status 1 on a problem.
    """
    from intake_bot.integrity import check_register

    report = check_register(context.config)
    for line in report.lines():
        click.echo(line)
    if report.problems:
        sys.exit(EXIT_FAILURE)


@cli.group()
def replies() -> None:
    """Manage the notices queued for candidates."""


@replies.command("retry")
@click.argument("reply_id", type=int, required=False)
@pass_context
@one_line_errors
def replies_retry(context: Context, reply_id: int | None) -> None:
    """Send failed or waiting notices now.

    One by ID, or all of them. An ID that names no notice, or one already sent, is one line
    and exit status 1.
    """
    from intake_bot.pipeline import open_intake

    if reply_id is not None:
        with context.register() as store:
            reply = store.reply(reply_id)
        if reply is None:
            fail(f"no notice with id {reply_id} (`intake-bot register show` lists a submission's)")
        if reply["status"] == "sent":
            fail(f"notice {reply_id} was sent at {reply['sent_at']}: nothing to retry")
    # Under the cycle lock, like a cycle: never beside a running one, and a notice a
    # crash left half-sent is dealt with first.
    with open_intake(context.config, clock=context.clock) as intake:
        queued = intake.register.requeue(reply_id)
        counts = intake.send_due(reply_id=reply_id)
    click.echo(f"{queued} notice(s) queued again; {counts.line()}")


@register.command("export")
@click.option("--vacancy", required=True, help="The vacancy id, e.g. DRP.")
@click.option("--history", is_flag=True,
              help="Every submission, instead of one row per candidate.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="CSV for a spreadsheet, or JSON.")
@click.option("--delimiter", type=click.Choice([",", ";"]), default=",", show_default=True,
              help="CSV field separator; ';' for Excel in a locale whose decimal comma "
                   "makes it expect one.")
@click.option("--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="Write to this file (owner-only), or '-' for standard output "
                   "[default: exports/<ID>.<format> beside the register].")
@pass_context
@one_line_errors
def register_export(context: Context, vacancy: str, history: bool, fmt: str, delimiter: str,
                    output: Path | None) -> None:
    """Export a vacancy's candidates for a spreadsheet.

    One row per candidate with the submission that counts (the accepted one, else the
    latest), or every submission with --history; UTF-8 with BOM, local times. Rows are
    streamed: any size, constant memory. The file holds personal data: by default it goes
    beside the register, never into the current folder.
    """
    from intake_bot.recruiters.export import default_output, export_rows, open_private, write

    config = context.config
    with context.register() as store:
        export = export_rows(config, store, vacancy, history=history, defuse=fmt == "csv")
        if output == Path("-"):
            write(export, fmt, sys.stdout.buffer, delimiter)
            return
        target = output or default_output(
            config, f"{vacancy}{'-history' if history else ''}.{fmt}")
        with open_private(target) as handle:
            count = write(export, fmt, handle, delimiter)
    click.echo(f"{plural(count, 'row')} written to {target}")


@register.command("stats")
@click.option("--vacancy", help="Only this vacancy id.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Lines to read, or JSON.")
@pass_context
@one_line_errors
def register_stats(context: Context, vacancy: str | None, fmt: str) -> None:
    """Show figures per vacancy.

    Counts by status, reason and flag, arrivals per day, time left.
    """
    from intake_bot.recruiters import stats
    from intake_bot.recruiters.filters import check_vacancy

    with context.register() as store:
        if vacancy is not None:
            check_vacancy(context.config, store, vacancy)
        figures = stats.register_stats(context.config, store, context.clock(), vacancy)
    if fmt == "json":
        click.echo(json.dumps([f.as_dict() for f in figures], ensure_ascii=False, indent=2))
        return
    click.echo("\n\n".join("\n".join(stats.stats_lines(f)) for f in figures))


@register.command("purge")
@click.option("--vacancy", help="The submissions of this vacancy (it must be closed).")
@click.option("--before", help="The submissions received before this date or date-time (without "
                               "an offset: the vacancy's local time, else [digest] timezone).")
@click.option("--dry-run", is_flag=True, help="Only show what would go.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
@one_line_errors
def register_purge(context: Context, vacancy: str | None, before: str | None,
                   dry_run: bool, yes: bool) -> None:
    """Delete submissions' personal data.

    Their documents and e-mails are deleted and their personal columns blanked. The
    anonymous facts (vacancy, status, reasons, flags, dates) stay, so that counts still add
    up, and an audit row goes in the purges table.
    """
    from intake_bot.recruiters.filters import check_vacancy, parse_moment
    from intake_bot.recruiters.purge import Criteria, current_user, plan_purge, purge

    config = context.config
    now = context.clock()
    with context.register() as store:
        if vacancy is not None:  # an unknown vacancy is named before a bad --before
            check_vacancy(config, store, vacancy)
        criteria = Criteria(vacancy, parse_moment("--before", before, config.local_zone(vacancy))
                            if before is not None else None)
        plan = plan_purge(config, store, criteria, now)
        for line in _purge_plan_lines(plan, config.documents_path.resolve()):
            click.echo(line)
        if dry_run or not plan.references:
            click.echo(plan.line() if plan.references else "nothing to purge")
            return
        if not yes:
            click.confirm(f"Purge {len(plan.references)} submissions for good?", abort=True)
        outcome = purge(config, store, criteria, actor=current_user(),
                        command="intake-bot register purge", now=now)
    click.echo(outcome.line())


def _purge_plan_lines(plan: PurgeOutcome, documents: Path) -> list[str]:
    """The submissions and files a purge takes, and the files it leaves: those in the
    (resolved) ``documents`` folder by their names there, as the register names them."""
    lines = [f"submissions: {' '.join(plan.references)}"] if plan.references else []
    lines += [f"delete: {path.relative_to(documents)}" for path in plan.files]
    lines += [f"keep:   {path.relative_to(documents) if path.is_relative_to(documents) else path}"
              for path in plan.kept]
    return lines


@cli.command("review")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Address to listen on; keep the loopback and put the sign-on proxy in front.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int,
              help="Port to listen on; a taken one is an error before anything starts.")
@click.option("--behind-proxy", is_flag=True,
              help="An authenticating reverse proxy stands in front: allow a --host beyond "
                   "the loopback.")
@click.option("--allow-sql", is_flag=True,
              help="Let whoever reaches the view run any SQL (only the canned queries run "
                   "without it).")
@pass_context
@one_line_errors
def review_command(context: Context, host: str, port: int, behind_proxy: bool,
                   allow_sql: bool) -> None:
    """Open the register in the browser.

    Datasette, with a candidate card per submission, facets and canned queries.
    """
    from intake_bot.recruiters import review

    config = context.config
    review.check_listening(host, behind_proxy)
    datasette = review.create_datasette(config, allow_sql)
    listening = review.listen(host, port)
    click.echo(f"browser view of {config.register_path} at http://{host}:{port}/ "
               "(Ctrl+C to stop)")
    review.serve(datasette, listening)


@cli.command("report")
@click.option("--vacancy", required=True, help="The vacancy id, e.g. DRP.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The PNG file to write [default: exports/<ID>-report.png beside the "
                   "register].")
@pass_context
@one_line_errors
def report_command(context: Context, vacancy: str, output: Path | None) -> None:
    """Draw a vacancy's report as a PNG picture.

    Arrivals per day against the deadline, and outcomes by reason.
    """
    from intake_bot.recruiters.export import default_output
    from intake_bot.recruiters.report import write_report

    config = context.config
    with context.register() as store:
        path = write_report(config, store, vacancy,
                            output or default_output(config, f"{vacancy}-report.png"),
                            context.clock())
    click.echo(f"report written to {path}")


@cli.command("digest")
@click.option("--send", is_flag=True,
              help="E-mail it to [digest] recruiters now; the next digest starts from here.")
@pass_context
@one_line_errors
def digest_command(context: Context, send: bool) -> None:
    """Print or send the recruiters' digest.

    What came in since the last one, totals, flags to review and deadlines.
    """
    from intake_bot.recruiters.digest import compose_digest, send_digest
    from intake_bot.transport import open_transport

    config = context.config
    now = context.clock()
    with context.register() as store:
        if not send:
            digest = compose_digest(config, store, now)
            click.echo(f"Subject: {digest.subject}\n\n{digest.text}", nl=False)
            return
        if not config.digest_recruiters:
            raise ConfigError(config.path, "[digest] recruiters", "not set: nobody to send to")
        transport = open_transport(config, context.clock)
        try:
            digest = send_digest(config, store, transport, now)
        finally:
            transport.close()
    click.echo(f"digest sent to {', '.join(config.digest_recruiters)}: {digest.subject}")


@cli.command("replay")
@click.argument("submission_id", type=int, required=False)
@click.option("--all", "replay_all", is_flag=True, help="Replay every quarantined submission.")
@pass_context
@one_line_errors
def replay_command(context: Context, submission_id: int | None, replay_all: bool) -> None:
    """Put quarantined messages through again.

    From the archive, once the cause is fixed: one by ID, or --all.
    """
    from intake_bot.replay import replay

    if replay_all == (submission_id is not None):
        fail("give one submission ID or --all", EXIT_CONFIG)
    outcomes = replay(context.checked_config(), None if submission_id is None else [submission_id],
                      clock=context.clock)
    for outcome in outcomes:
        click.echo(outcome.line)
    replayed = sum(outcome.replayed for outcome in outcomes)
    click.echo(f"{replayed} of {len(outcomes)} replayed" if outcomes else "nothing to replay")
    if replayed < len(outcomes):
        sys.exit(EXIT_FAILURE)


def main() -> None:
    """Entry point of the ``intake-bot`` console script."""
    cli(prog_name="intake-bot")
