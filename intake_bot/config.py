"""Load and validate the service configuration and the vacancies it serves.

Each table of both files is declared once below, as a :class:`~intake_bot.settings.Section`
of settings (name, kind, default, help): parsing, the errors for unknown keys and the rows
of the reference docs all come from it. Every mistake becomes one :class:`ConfigError`
naming the file, the key and its line, so that the command line prints a single line
instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from intake_bot.scan.clamd import parse_address
from intake_bot.settings import (
    REQUIRED,
    Choice,
    ConfigError,
    Integer,
    Invalid,
    Kind,
    Location,
    Section,
    Setting,
    Table,
    Tables,
    Text,
    Texts,
    TomlFile,
    Variable,
    Zone,
    did_you_mean,
    read_table,
)
from intake_bot.signin.base import PROVIDERS

if TYPE_CHECKING:
    from intake_bot.clock import Clock
    from intake_bot.signin import OAuthSettings, TokenLogin

DEFAULT_CONFIG = Path("config/intake.toml")
CONFIG_ENV = "INTAKE_BOT_CONFIG"

DOCUMENT_TYPES = ("pdf", "docx", "doc", "odt")
CHECK_POLICIES = ("reject", "flag", "off")
LANGUAGES = ("en", "fr")

Policy = Literal["reject", "flag", "off"]

DEFAULT_NEXT_STEPS = {
    "en": "Only shortlisted candidates will be contacted.",
    "fr": "Seuls les candidats présélectionnés seront contactés.",
}

SERVER_PORTS = {"imaps": 993, "imap": 143, "smtps": 465, "smtp": 587}
#: How a server is signed in to: ``[mailbox] auth`` and ``[smtp] auth``.
AUTH_METHODS = ("password", "oauth2")

__all__ = ["ConfigError", "Config", "Vacancy", "AttachmentPolicy", "load_config", "load_vacancies"]


# -- kinds of value particular to intake-bot -------------------------------------------


@dataclass(frozen=True)
class Url(Kind):
    """A server URL of one of ``schemes``; ``maildir:``/``outbox:`` paths made absolute."""

    schemes: tuple[str, ...]

    def read(self, value: Any, base: Path) -> str:
        url = Text().read(value, base)
        if not url.startswith(self.schemes):
            raise Invalid(f"must start with one of {', '.join(self.schemes)}: {url!r}")
        for local in ("maildir:", "outbox:"):
            if url.startswith(local):
                folder = url[len(local):]
                if not folder:
                    raise Invalid(f"{local} needs a folder path")
                return local + str((base / folder).resolve())
        from intake_bot.netsec import parse_server_url

        try:
            parsed = parse_server_url(url, SERVER_PORTS)
        except ValueError as error:
            raise Invalid(str(error)) from None
        if url.startswith("imap") and parsed.user is None:
            raise Invalid("names no user: expected imaps://USER@HOST:PORT/FOLDER")
        if url.startswith("smtp") and parsed.path:
            raise Invalid("may not have a path: expected smtps://USER@HOST:PORT")
        return url


@dataclass(frozen=True)
class ClamdAddress(Kind):
    """Where clamd listens: ``unix:/ABSOLUTE/PATH`` or ``tcp://HOST:PORT``."""

    def read(self, value: Any, base: Path) -> str:
        address = Text().read(value, base)
        try:
            parse_address(address)
        except ValueError as error:
            raise Invalid(str(error)) from None
        return address


@dataclass(frozen=True)
class AuthservId(Kind):
    """One name, as a server writes it before the first ``;`` of its Authentication-Results
    (RFC 8601 2.5), e.g. ``mx.example.org``: a value with a space, ``;`` or ``=`` could
    never match one, and no sender would ever count as authenticated."""

    def read(self, value: Any, base: Path) -> str:
        name = Text().read(value, base)
        if any(char.isspace() or char in ';=()",@' for char in name):
            raise Invalid(f"{name!r} is not one name: give what your receiving server writes "
                          "before the first ';' of its Authentication-Results, e.g. "
                          "mx.example.org")
        return name


@dataclass(frozen=True)
class Address(Kind):
    """An e-mail address, with or without a display name: ``Name <user@example.org>``."""

    def read(self, value: Any, base: Path) -> str:
        text = Text().read(value, base)
        if "@" not in parseaddr(text)[1]:
            raise Invalid(f"not an e-mail address: {text!r}")
        return text


@dataclass(frozen=True)
class Addresses(Kind):
    """A list of e-mail addresses; the bare addresses are kept."""

    def read(self, value: Any, base: Path) -> tuple[str, ...]:
        return tuple(parseaddr(Address().read(entry, base))[1] for entry in Texts().read(value, base))


@dataclass(frozen=True)
class VacancyId(Kind):
    """A short id for references: letters, digits, ``-`` and ``_``."""

    def read(self, value: Any, base: Path) -> str:
        text = Text().read(value, base)
        if not text.replace("-", "").replace("_", "").isalnum():
            raise Invalid("use letters, digits, '-' and '_' only")
        return text


@dataclass(frozen=True)
class Deadline(Kind):
    """A local date and time, and the span it covers: a minute covers the whole minute.

    Read as ``(naive datetime, span)``: ``"2026-06-12T23:59"`` covers a minute,
    ``"…T23:59:30"`` a second, ``"2026-06-12"`` the whole day.
    """

    def read(self, value: Any, base: Path) -> tuple[dt.datetime, dt.timedelta]:
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                raise Invalid("give local time without offset; the zone is `timezone`")
            return value, dt.timedelta(seconds=1) if value.second else dt.timedelta(minutes=1)
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time()), dt.timedelta(days=1)
        if not isinstance(value, str):
            raise Invalid("must be a date and time such as \"2026-06-12T23:59\"")
        text = value.strip()
        try:
            if len(text) == 10:
                return dt.datetime.combine(dt.date.fromisoformat(text), dt.time()), dt.timedelta(days=1)
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise Invalid(f"not a date and time: {value!r} (expected e.g. \"2026-06-12T23:59\")") from None
        if parsed.tzinfo is not None:
            raise Invalid("give local time without offset; the zone is `timezone`")
        has_seconds = text.count(":") >= 2
        return parsed, dt.timedelta(seconds=1) if has_seconds else dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Countries(Kind):
    """``"nato"`` (the 32 member states) or a list of countries, each named as
    ``intake_bot/data/countries.toml`` knows it: a name, official name or demonym, in
    English or French, in any case and with or without accents."""

    def read(self, value: Any, base: Path) -> str | tuple[str, ...]:
        if isinstance(value, str):
            if value != "nato":
                raise Invalid("must be \"nato\" or a list of country names")
            return "nato"
        names = Texts(what="country", required=True).read(value, base)
        # Imported here: compiling the text heuristics' patterns takes a few tenths of a
        # second, which only a vacancy that lists its countries should cost a command.
        from intake_bot.documents.content import COUNTRY_TERMS, canonical_country

        for name in names:
            if name.casefold() == "nato":
                raise Invalid('"nato" stands alone (eligible = "nato"), not in a list of countries')
            if canonical_country(name) is None:
                # A name nobody knows would never match a CV: every candidate ineligible.
                raise Invalid(f"unknown country {name!r}" + did_you_mean(
                    name, COUNTRY_TERMS, otherwise="no country has that name, official name "
                    "or demonym, in English or French"))
        return names


@dataclass(frozen=True)
class PerLanguage(Kind):
    """One text for every language, or a table of texts by language (``next_steps.fr``)."""

    def read(self, value: Any, base: Path) -> str | dict[str, str]:
        if not isinstance(value, dict):
            return Text().read(value, base)
        texts = {}
        for language, text in value.items():
            if language not in LANGUAGES:
                raise Invalid(f"unknown language{did_you_mean(language, LANGUAGES)}", (language,))
            try:
                texts[language] = Text().read(text, base)
            except Invalid as invalid:
                raise Invalid(invalid.problem, (language,)) from None
        if not texts:
            raise Invalid("give a text, or one per language")
        return texts


# -- intake.toml -----------------------------------------------------------------------

MAILBOX = Section((
    Setting("url", Url(("imaps://", "imap://", "maildir:")), REQUIRED,
            "`imaps://user@host:port/FOLDER` (TLS), `imap://…` (STARTTLS when offered), or "
            "`maildir:PATH`, a local Maildir whose delivery time (file modification time) is "
            "the receipt time"),
    Setting("auth", Choice(AUTH_METHODS), "password",
            "`password` (from `password_env`) or `oauth2`: a token from the `[oauth2]` "
            "section ([OAuth 2.0](oauth.md))"),
    Setting("password_env", Variable(), None,
            "name of the environment variable that holds the mailbox password; the password "
            "itself is never in a file or a log"),
    Setting("processed_folder", Text(), "Processed",
            "where handled messages go (in a Maildir, the Maildir++ folder `.Processed`)"),
    Setting("quarantine_folder", Text(), "Quarantine",
            "where messages that broke a step go"),
))

SMTP = Section((
    Setting("url", Url(("smtps://", "smtp://", "outbox:")), REQUIRED,
            "`smtps://user@host:port` (TLS), `smtp://…` (STARTTLS when offered), or "
            "`outbox:PATH`, a folder where each notice is written as an `.eml` file"),
    Setting("auth", Choice(AUTH_METHODS), "password",
            "`password` or `oauth2`, as for the mailbox"),
    Setting("password_env", Variable(), None,
            "environment variable holding the SMTP password; no login when absent"),
    Setting("from", Address(), REQUIRED,
            "the notices' `From:`; also the bot's own address, never answered"),
))

OAUTH2 = Section((
    Setting("provider", Choice(PROVIDERS), None,
            "`microsoft`, `google` or `generic`: who issues the tokens "
            "([OAuth 2.0](oauth.md#the-settings), every key explained)"),
    Setting("client_id", Text(), None, "the application (client) ID"),
    Setting("tenant", Text(), None,
            "microsoft: the directory (tenant) ID or a verified domain"),
    Setting("client_secret_env", Variable(), None,
            "environment variable holding the client secret"),
    Setting("certificate", Location(), None,
            "microsoft: PEM file with the private key and the certificate, instead of a secret"),
    Setting("service_account_file", Location(), None,
            "google: the service account's JSON key"),
    Setting("refresh_token_env", Variable(), None,
            "environment variable holding a refresh token: the refresh-token grant"),
    Setting("token_cache", Location(), None,
            "owner-only file keeping the current tokens and a rotated refresh token (default "
            "`oauth-token.json` beside the register)"),
    Setting("scope", Text(), None,
            "default per provider (`https://outlook.office365.com/.default`, "
            "`https://mail.google.com/`)"),
    Setting("token_url", Text(), None,
            "the token endpoint (default per provider); plain `http://` only to a loopback "
            "address"),
))

REGISTER = Section((
    Setting("path", Location(), REQUIRED, "the SQLite register"),
    Setting("documents", Location(), REQUIRED,
            "archived raw messages (`raw/`) and documents (`files/`), named by SHA-256"),
))

SCHEDULE = Section((
    Setting("poll_seconds", Integer(1), 60, "seconds between cycles of `run`"),
))

VACANCIES = Section((
    Setting("path", Location(), REQUIRED, "the vacancies file"),
))

NOTICES = Section((
    Setting("templates", Location(), None,
            "optional folder of template overrides (see [notices and templates](notices.md))"),
    Setting("max_per_address_per_day", Integer(0), 5,
            "at most this many notices to one mailbox in 24 hours, whatever the case or "
            "`+tag` of its address; past it the submission is registered with "
            "`notice_skipped = \"cap\"` and not answered"),
    Setting("max_per_domain_per_hour", Integer(1), 20,
            "at most this many notices sent to one domain in an hour; past it a notice "
            "waits, `pending`, until a place frees up"),
    Setting("max_per_hour", Integer(1), 500,
            "at most this many notices sent in an hour in all; past it a notice waits, "
            "`pending`, until a place frees up"),
    Setting("authserv_id", AuthservId(), None,
            "the authserv-id of your receiving server's `Authentication-Results` headers, "
            "e.g. `mx.example.org`: only a From it authenticated is answered, and only then "
            "is `Reply-To` followed; absent: senders are not checked (see [answering "
            "safely](notices.md#answering-safely))"),
))

LIMITS = Section((
    Setting("max_message_bytes", Integer(1), 25_000_000,
            "messages larger than this are `rejected` as `too-large` from their headers "
            "alone"),
    Setting("max_message_seconds", Integer(1), 20,
            "seconds one message's documents may take to inspect: a document is opened only "
            "while a whole 5-second inspection slot is left; those left unopened are flagged "
            "`not-inspected` for a recruiter, and the cycle goes on"),
))

DIGEST = Section((
    Setting("recruiters", Addresses(), (),
            "addresses that get the daily digest; none (the default): no digest"),
    Setting("hour", Integer(0, 23), 8,
            "local hour (0–23) from which the day's digest goes, at the first cycle after "
            "it"),
    Setting("timezone", Zone(), None,
            "the zone of `hour` and of the digest's dates (default: the first vacancy's "
            "`timezone`)"),
))

SCAN = Section((
    Setting("clamd", ClamdAddress(), None,
            "ClamAV's clamd: `unix:/run/clamav/clamd.ctl` or `tcp://127.0.0.1:3310`; every "
            "attachment is scanned before anything is filed. Absent (the default): no scanning "
            "([virus scanning](production.md#virus-scanning-with-clamav))"),
    Setting("timeout_seconds", Integer(1), 60,
            "the longest one file's scan may take, in seconds; a time-out is never a pass"),
    Setting("max_signature_age_days", Integer(1), 7,
            "clamd's signatures older than this many days make `check-config --connect` "
            "and, once a day, the service warn"),
))

#: Every section of ``intake.toml``, in the order the docs list them.
INTAKE_FILE = Section(tuple(Setting(name, Table(section)) for name, section in (
    ("mailbox", MAILBOX), ("smtp", SMTP), ("oauth2", OAUTH2), ("register", REGISTER),
    ("schedule", SCHEDULE),
    ("vacancies", VACANCIES), ("notices", NOTICES), ("limits", LIMITS), ("digest", DIGEST),
    ("scan", SCAN),
)))


# -- vacancies.toml --------------------------------------------------------------------

ATTACHMENTS = Section((
    Setting("count", Integer(0), None, "exactly this many documents (default 1)"),
    Setting("min_count", Integer(0), None,
            "at least this many, instead of `count`; alone, with no upper limit"),
    Setting("max_count", Integer(0), None,
            "at most this many, instead of `count`; alone, at least one"),
    Setting("types", Texts(DOCUMENT_TYPES, "type", required=True), ("pdf",),
            "accepted types among `pdf`, `docx`, `doc`, `odt`, recognised by content"),
    Setting("max_bytes", Integer(1), 10_000_000, "largest document, in bytes"),
    Setting("max_pages", Integer(1), None, "most pages in a PDF"),
    Setting("max_words", Integer(1), None, "most words in a Word or ODF document's body"),
    Setting("filename_must_contain", Texts(), (),
            "words every document's file name must contain, blind to case, accents and the "
            "separators between words (`PASP0016_Key-challenges.docx` contains `Key challenges`)"),
))

CHECKS = Section((
    Setting("letter", Choice(CHECK_POLICIES), "off", "a letter of application must be found"),
    Setting("cv", Choice(CHECK_POLICIES), "off", "a CV must be found"),
    Setting("nationality", Choice(CHECK_POLICIES), "off", "the CV must state a nationality"),
    Setting("references", Choice(CHECK_POLICIES), "off",
            "at least `min_references` referees with contact details"),
    Setting("min_references", Integer(0), 3, "how many referees `references` looks for"),
    Setting("eligibility", Choice(CHECK_POLICIES), "off",
            "one stated nationality must be eligible"),
    Setting("eligible", Countries(), "nato",
            "`\"nato\"` (the 32 member states) or a list of countries, each by a name, official "
            "name or demonym, English or French (`[\"Liechtenstein\", \"Royaume-Uni\"]`); a name "
            "no country has is an error (see [nationalities](#nationalities))"),
))

#: The content checks a vacancy may switch on, each named after what it looks for.
CHECK_NAMES = tuple(s.name for s in CHECKS.settings if s.kind == Choice(CHECK_POLICIES))

VACANCY = Section((
    Setting("id", VacancyId(), REQUIRED,
            "short stable id; references are `<id>-0001`, `<id>-0002`, … per vacancy"),
    Setting("title", Text(), REQUIRED, "the title candidates put in the subject"),
    Setting("aliases", Texts(), (),
            "other names that match (e.g. the French title); a French alias makes French the "
            "notice's first language"),
    Setting("reference", Text(), None,
            "an optional code that may stand in the subject instead of the title"),
    Setting("deadline", Deadline(), None,
            "local time of `timezone`: `\"2026-06-12T23:59\"` covers the whole minute "
            "(`23:59:59` is on time), `\"…T23:59:30\"` the whole second, `\"2026-06-12\"` the "
            "whole day. Optional: a vacancy without one is open until it is removed, and its "
            "notices name no date"),
    Setting("timezone", Zone(), None,
            "an IANA zone such as `Europe/Brussels`; daylight-saving changes are handled. "
            "Required with a deadline; a vacancy without one may leave it out (UTC)"),
    Setting("languages", Texts(LANGUAGES, "language", required=True), ("en",),
            "`en` and/or `fr`: every notice carries each, the candidate's language first"),
    Setting("channel", Choice(("email", "e-recruitment")), "email",
            "`email` or `e-recruitment`"),
    Setting("apply_url", Text(), None,
            "required with `e-recruitment`: quoted in the `wrong-channel` notice"),
    Setting("next_steps", PerLanguage(), None,
            "what the acknowledgement says happens next; one text, or `next_steps.en` / "
            "`next_steps.fr`"),
    Setting("resubmission", Choice(("latest", "first")), "latest",
            "`latest`: a later accepted submission from the same address supersedes the "
            "earlier one; `first`: the first accepted one is kept and later ones are recorded "
            "as `superseded`"),
    Setting("retention_days", Integer(0), None,
            "optional: this many days after the deadline, the service purges the vacancy's "
            "submissions (see [retention](recruiters.md#retention)); absent: kept until someone "
            "runs `intake-bot register purge`"),
    Setting("attachments", Table(ATTACHMENTS), help=(
        "the attachment policy below; a vacancy without it takes one single PDF of at most "
        "10 MB")),
    Setting("checks", Table(CHECKS), help=(
        "the content checks below, each `reject`, `flag` or `off`")),
))

#: The one table of ``vacancies.toml``: ``[[vacancy]]``, as many as there are vacancies.
VACANCIES_FILE = Section((Setting("vacancy", Tables(VACANCY)),))


# -- what the rest of the code reads ---------------------------------------------------


@dataclass(frozen=True)
class AttachmentPolicy:
    """What a vacancy accepts as attached documents; every breach rejects."""

    types: tuple[str, ...] = ("pdf",)
    min_count: int = 1
    max_count: int | None = 1  # None: no upper limit
    max_bytes: int = 10_000_000
    max_pages: int | None = None
    max_words: int | None = None
    filename_must_contain: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vacancy:
    """One vacancy as configured: how to recognise it and which rules apply to it."""

    id: str
    title: str
    deadline: dt.datetime | None  # naive, local time of ``timezone``, as written; None: none published
    timezone: ZoneInfo
    closes_at: dt.datetime | None  # aware UTC, exclusive: the whole written minute (or second) counts
    aliases: tuple[str, ...] = ()
    reference: str | None = None
    languages: tuple[str, ...] = ("en",)
    channel: Literal["email", "e-recruitment"] = "email"
    apply_url: str | None = None
    next_steps: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_NEXT_STEPS))
    resubmission: Literal["latest", "first"] = "latest"
    attachments: AttachmentPolicy = field(default_factory=AttachmentPolicy)
    checks: Mapping[str, Policy] = field(default_factory=dict)
    min_references: int = 3
    eligible: str | tuple[str, ...] = "nato"
    retention_days: int | None = None  # purge this many days after closing; None: keep

    def purge_due_at(self) -> dt.datetime | None:
        """When retention purges this vacancy (aware UTC), or None when it never does."""
        if self.retention_days is None or self.closes_at is None:
            return None
        return self.closes_at + dt.timedelta(days=self.retention_days)

    def policy(self, check: str) -> Policy:
        """The vacancy's policy for a content check (``off`` unless configured)."""
        return self.checks.get(check, "off")

    def is_open(self, now: dt.datetime) -> bool:
        """Whether applications received at ``now`` (aware) are on time."""
        return self.closes_at is None or now < self.closes_at

    @property
    def has_deadline(self) -> bool:
        """Whether the vacancy closes at all (one without a deadline is open until removed)."""
        return self.closes_at is not None

    @property
    def last_moment(self) -> dt.datetime | None:
        """The last second that is still on time (aware UTC), for notices."""
        return self.closes_at - dt.timedelta(seconds=1) if self.closes_at else None

    @property
    def subject_forms(self) -> tuple[str, ...]:
        """Every text that, found in a subject, names this vacancy."""
        forms = (self.title, *self.aliases)
        return forms + ((self.reference,) if self.reference else ())


@dataclass(frozen=True)
class Config:
    """The whole configuration, with paths made absolute.

    ``settings`` holds every key of ``intake.toml`` as read, by section and name, defaults
    filled in (``config.settings["schedule"]["poll_seconds"]``): a key added to a section
    above is read from there, with no other change.
    """

    path: Path
    mailbox_url: str
    mailbox_password_env: str | None
    processed_folder: str
    quarantine_folder: str
    smtp_url: str
    smtp_password_env: str | None
    from_address: str
    register_path: Path
    documents_path: Path
    poll_seconds: int
    vacancies_path: Path
    vacancies: tuple[Vacancy, ...]
    templates_path: Path | None = None
    max_notices_per_address_per_day: int = 5
    max_notices_per_domain_per_hour: int = 20
    max_notices_per_hour: int = 500
    authserv_id: str | None = None
    max_message_bytes: int = 25_000_000
    digest_recruiters: tuple[str, ...] = ()
    digest_hour: int = 8
    digest_timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    clamd: str | None = None  # [scan] clamd; None: no virus scanning
    scan_timeout_seconds: int = 60
    max_signature_age_days: int = 7
    mailbox_auth: Literal["password", "oauth2"] = "password"
    smtp_auth: Literal["password", "oauth2"] = "password"
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def from_addr_spec(self) -> str:
        """The bare address of ``from``, e.g. ``recruitment@example.org``."""
        return parseaddr(self.from_address)[1]

    @functools.cached_property
    def own_addresses(self) -> frozenset[str]:
        """The bot's own addresses, lower case: mail from them is a loop, never answered.

        Its ``from``, and the user of the mailbox and SMTP URLs when that is an address (a
        hosted mailbox signs in as ``applications@example.org``: the very address
        candidates write to, and a message from it is the mailbox's own).
        """
        from intake_bot.netsec import parse_server_url

        users = {parse_server_url(url, SERVER_PORTS).user or "" for url in
                 (self.mailbox_url, self.smtp_url) if not url.startswith(("maildir:", "outbox:"))}
        return frozenset({self.from_addr_spec.lower()}
                         | {user.lower() for user in users if "@" in user})

    def vacancy(self, vacancy_id: str) -> Vacancy | None:
        """The vacancy with this id, if configured."""
        return next((v for v in self.vacancies if v.id == vacancy_id), None)

    def local_zone(self, vacancy_id: str | None = None) -> ZoneInfo:
        """The zone recruiters read a time in: the vacancy's, else the recruiters' own."""
        vacancy = self.vacancy(vacancy_id) if vacancy_id else None
        return vacancy.timezone if vacancy is not None else self.digest_timezone

    def secret(self, env_name: str | None, section: str) -> str | None:
        """The password held in the named environment variable (never logged).

        Raises :class:`ConfigError` when the configuration names a variable that is not set.
        """
        if not env_name:
            return None
        value = os.environ.get(env_name)
        if value is None:
            raise self.error((section, "password_env"),
                             f"the environment variable {env_name} is not set")
        return value

    def oauth_settings(self) -> OAuthSettings:
        """``[oauth2]`` resolved: defaults filled in, secrets read from their variables.

        Raises :class:`ConfigError` naming the key (a variable that is not set, say).
        """
        from intake_bot.signin.settings import resolve_oauth2

        return resolve_oauth2(self.settings["oauth2"], self.register_path,
                              lambda key, problem: self.error(("oauth2", key), problem))

    def token_login(self, clock: Clock) -> TokenLogin:
        """How the servers sign in by token: ``[oauth2]``'s token source, and ``clock``.

        Raises :class:`ConfigError` for a variable that is not set or a credential file
        that cannot be used.
        """
        from intake_bot.signin import CredentialError, MissingLibrary, TokenLogin, token_source

        try:
            return TokenLogin(token_source(self.oauth_settings()), clock)
        except CredentialError as error:
            raise self.error(("oauth2", error.key), error.problem) from None
        except MissingLibrary as error:
            raise self.error(("oauth2", "provider"), str(error)) from None

    def error(self, key: tuple[str | int, ...], problem: str) -> ConfigError:
        """A :class:`ConfigError` about a key of this file, e.g. ``("notices", "templates")``,
        naming the line it stands on."""
        return _error_in(self.path, key, problem)


def default_config_path() -> Path:
    """``$INTAKE_BOT_CONFIG``, else ``config/intake.toml``."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: Path | str) -> Config:
    """Read and validate the service configuration and its vacancies file."""
    path = Path(path)
    file = TomlFile.read(path)
    settings = read_table(file, INTAKE_FILE)
    mailbox, smtp, register = settings["mailbox"], settings["smtp"], settings["register"]
    if "oauth2" in (mailbox["auth"], smtp["auth"]):
        from intake_bot.signin.settings import check_oauth2

        # Everything that can be told without the secrets: check-config catches it.
        check_oauth2(settings["oauth2"], lambda key, problem: file.error(("oauth2", key), problem))
    notices, digest = settings["notices"], settings["digest"]
    vacancies = load_vacancies(settings["vacancies"]["path"])
    return Config(
        path=path,
        mailbox_url=mailbox["url"],
        mailbox_password_env=mailbox["password_env"],
        processed_folder=mailbox["processed_folder"],
        quarantine_folder=mailbox["quarantine_folder"],
        smtp_url=smtp["url"],
        smtp_password_env=smtp["password_env"],
        from_address=smtp["from"],
        register_path=register["path"],
        documents_path=register["documents"],
        poll_seconds=settings["schedule"]["poll_seconds"],
        vacancies_path=settings["vacancies"]["path"],
        vacancies=vacancies,
        templates_path=notices["templates"],
        max_notices_per_address_per_day=notices["max_per_address_per_day"],
        max_notices_per_domain_per_hour=notices["max_per_domain_per_hour"],
        max_notices_per_hour=notices["max_per_hour"],
        authserv_id=notices["authserv_id"],
        max_message_bytes=settings["limits"]["max_message_bytes"],
        digest_recruiters=digest["recruiters"],
        digest_hour=digest["hour"],
        # Recruiters read the digest in their vacancies' zone unless told otherwise.
        digest_timezone=digest["timezone"] or vacancies[0].timezone,
        clamd=settings["scan"]["clamd"],
        scan_timeout_seconds=settings["scan"]["timeout_seconds"],
        max_signature_age_days=settings["scan"]["max_signature_age_days"],
        mailbox_auth=mailbox["auth"],
        smtp_auth=smtp["auth"],
        settings=settings,
    )


def load_vacancies(path: Path) -> tuple[Vacancy, ...]:
    """Read and validate a vacancies file (``[[vacancy]]`` tables)."""
    file = TomlFile.read(path)
    entries = read_table(file, VACANCIES_FILE)["vacancy"]
    vacancies: list[Vacancy] = []
    for index, entry in enumerate(entries):
        vacancy = _vacancy(file, ("vacancy", index), entry)
        if any(v.id == vacancy.id for v in vacancies):
            raise file.error(("vacancy", index, "id"), f"duplicate id {vacancy.id!r}")
        vacancies.append(vacancy)
    return tuple(vacancies)


def _vacancy(file: TomlFile, where: tuple[str | int, ...], values: dict[str, Any]) -> Vacancy:
    """A vacancy from its table's values, checking the keys that depend on each other."""
    zone = values["timezone"]
    deadline: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    if zone is None:
        if values["deadline"] is not None:
            raise file.error((*where, "timezone"), "missing (required with a deadline)")
        zone = ZoneInfo("UTC")  # only the dates a notice shows are in it
    if values["deadline"] is not None:
        deadline, span = values["deadline"]
        closes_at = (deadline.replace(tzinfo=zone) + span).astimezone(dt.UTC)
    if values["channel"] == "e-recruitment" and not values["apply_url"]:
        raise file.error((*where, "apply_url"), "required when channel is 'e-recruitment'")
    checks = values["checks"]
    return Vacancy(
        id=values["id"],
        title=values["title"],
        aliases=values["aliases"],
        reference=values["reference"],
        deadline=deadline,
        timezone=zone,
        closes_at=closes_at,
        languages=values["languages"],
        channel=values["channel"],
        apply_url=values["apply_url"],
        next_steps=_next_steps(values["next_steps"], values["languages"]),
        resubmission=values["resubmission"],
        attachments=_attachments(file, (*where, "attachments"), values["attachments"]),
        checks={name: checks[name] for name in CHECK_NAMES},
        min_references=checks["min_references"],
        eligible=checks["eligible"],
        retention_days=values["retention_days"],
    )


def _next_steps(value: str | dict[str, str] | None, languages: tuple[str, ...]) -> dict[str, str]:
    """``next_steps`` in every language: one text for all, or the first text given."""
    if value is None:
        return dict(DEFAULT_NEXT_STEPS)
    if isinstance(value, dict):
        return {language: value.get(language) or next(iter(value.values()))
                for language in {*languages, *value}}
    return {language: value for language in {*languages, *DEFAULT_NEXT_STEPS}}


def _attachments(file: TomlFile, where: tuple[str | int, ...],
                 values: dict[str, Any]) -> AttachmentPolicy:
    count, min_count, max_count = values["count"], values["min_count"], values["max_count"]
    if count is not None:
        min_count = count if min_count is None else min_count
        max_count = count if max_count is None else max_count
    elif min_count is None:  # max_count alone, or nothing: at least one document
        min_count, max_count = 1, 1 if max_count is None else max_count
    # min_count alone sets no upper limit: max_count stays None.
    if max_count is not None and min_count > max_count:
        raise file.error((*where, "min_count"), "is larger than max_count")
    return AttachmentPolicy(
        types=values["types"],
        min_count=min_count,
        max_count=max_count,
        max_bytes=values["max_bytes"],
        max_pages=values["max_pages"],
        max_words=values["max_words"],
        filename_must_contain=values["filename_must_contain"],
    )


def _error_in(path: Path, key: tuple[str | int, ...], problem: str) -> ConfigError:
    """A :class:`ConfigError` about a key of a file read before, with its line if it still reads."""
    try:
        return TomlFile.read(path).error(key, problem)
    except ConfigError:
        return ConfigError(path, " ".join(str(part) for part in key), problem)
