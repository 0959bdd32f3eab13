"""Load and validate the service configuration and the vacancies it serves.

Every mistake becomes one :class:`ConfigError` naming the file and the key, so that the
command line can print a single line instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CONFIG = Path("config/intake.toml")
CONFIG_ENV = "INTAKE_BOT_CONFIG"

DOCUMENT_TYPES = ("pdf", "docx", "doc", "odt")
CHECK_POLICIES = ("reject", "flag", "off")
#: The content checks a vacancy may switch on, each named after what it looks for.
CHECK_NAMES = ("letter", "cv", "nationality", "references", "eligibility")
LANGUAGES = ("en", "fr")

Policy = Literal["reject", "flag", "off"]

DEFAULT_NEXT_STEPS = {
    "en": "Only shortlisted candidates will be contacted.",
    "fr": "Seuls les candidats présélectionnés seront contactés.",
}


class ConfigError(Exception):
    """A configuration mistake, rendered as one line: ``file: key: problem``."""

    def __init__(self, file: Path | str, key: str, problem: str) -> None:
        self.file = str(file)
        self.key = key
        self.problem = problem
        where = f"{self.file}: {key}" if key else self.file
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class AttachmentPolicy:
    """What a vacancy accepts as attached documents; every breach rejects."""

    types: tuple[str, ...] = ("pdf",)
    min_count: int = 1
    max_count: int = 1
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
    """The whole configuration, with paths made absolute."""

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
    max_message_bytes: int = 25_000_000
    digest_recruiters: tuple[str, ...] = ()
    digest_hour: int = 8
    digest_timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    warnings: tuple[str, ...] = ()

    @property
    def from_addr_spec(self) -> str:
        """The bare address of ``from``, e.g. ``recruitment@example.org``."""
        return parseaddr(self.from_address)[1]

    def vacancy(self, vacancy_id: str) -> Vacancy | None:
        """The vacancy with this id, if configured."""
        return next((v for v in self.vacancies if v.id == vacancy_id), None)

    def secret(self, env_name: str | None, section: str) -> str | None:
        """The password held in the named environment variable (never logged).

        Raises :class:`ConfigError` when the configuration names a variable that is not set.
        """
        if not env_name:
            return None
        value = os.environ.get(env_name)
        if value is None:
            raise ConfigError(self.path, f"[{section}] password_env",
                              f"the environment variable {env_name} is not set")
        return value


def default_config_path() -> Path:
    """``$INTAKE_BOT_CONFIG``, else ``config/intake.toml``."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: Path | str) -> Config:
    """Read and validate the service configuration and its vacancies file."""
    path = Path(path)
    data = _read_toml(path)
    reader = _Reader(path, data)
    base = path.resolve().parent

    mailbox = reader.table("mailbox")
    mailbox_url = _resolve_url(path, "[mailbox] url", mailbox.text("url"), base,
                               ("imaps://", "imap://", "maildir:"))
    smtp = reader.table("smtp")
    smtp_url = _resolve_url(path, "[smtp] url", smtp.text("url"), base,
                            ("smtps://", "smtp://", "outbox:"))
    from_address = smtp.text("from")
    if "@" not in parseaddr(from_address)[1]:
        raise ConfigError(path, "[smtp] from", f"not an e-mail address: {from_address!r}")
    register = reader.table("register")
    schedule = reader.table("schedule", required=False)
    vacancies_table = reader.table("vacancies")
    notices = reader.table("notices", required=False)
    limits = reader.table("limits", required=False)
    digest = reader.table("digest", required=False)

    vacancies_path = (base / vacancies_table.text("path")).resolve()
    templates = notices.optional_text("templates")
    vacancies = load_vacancies(vacancies_path)
    config = Config(
        path=path,
        mailbox_url=mailbox_url,
        mailbox_password_env=mailbox.optional_text("password_env"),
        processed_folder=mailbox.optional_text("processed_folder") or "Processed",
        quarantine_folder=mailbox.optional_text("quarantine_folder") or "Quarantine",
        smtp_url=smtp_url,
        smtp_password_env=smtp.optional_text("password_env"),
        from_address=from_address,
        register_path=(base / register.text("path")).resolve(),
        documents_path=(base / register.text("documents")).resolve(),
        poll_seconds=schedule.integer("poll_seconds", default=60, minimum=1),
        vacancies_path=vacancies_path,
        vacancies=vacancies,
        templates_path=base / templates if templates else None,
        max_notices_per_address_per_day=notices.integer(
            "max_per_address_per_day", default=5, minimum=0),
        max_message_bytes=limits.integer("max_message_bytes", default=25_000_000, minimum=1),
        digest_recruiters=_parse_recruiters(digest),
        digest_hour=_parse_hour(digest),
        # Recruiters read the digest in their vacancies' zone unless told otherwise.
        digest_timezone=_zone(digest, "timezone", vacancies[0].timezone.key),
        warnings=tuple(reader.unknown_keys(KNOWN_CONFIG_KEYS)),
    )
    return config


SERVER_PORTS = {"imaps": 993, "imap": 143, "smtps": 465, "smtp": 587}

KNOWN_CONFIG_KEYS = {
    "mailbox": {"url", "password_env", "processed_folder", "quarantine_folder"},
    "smtp": {"url", "password_env", "from"},
    "register": {"path", "documents"},
    "schedule": {"poll_seconds"},
    "vacancies": {"path"},
    "notices": {"templates", "max_per_address_per_day"},
    "limits": {"max_message_bytes"},
    "digest": {"recruiters", "hour", "timezone"},
}

KNOWN_VACANCY_KEYS = {
    "id", "title", "aliases", "reference", "deadline", "timezone", "languages", "channel",
    "apply_url", "next_steps", "resubmission", "attachments", "checks", "retention_days",
}
KNOWN_ATTACHMENT_KEYS = {
    "count", "min_count", "max_count", "types", "max_bytes", "max_pages", "max_words",
    "filename_must_contain",
}
KNOWN_CHECK_KEYS = {*CHECK_NAMES, "min_references", "eligible"}


def load_vacancies(path: Path) -> tuple[Vacancy, ...]:
    """Read and validate a vacancies file (``[[vacancy]]`` tables)."""
    data = _read_toml(path)
    entries = data.get("vacancy")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(path, "[[vacancy]]", "no vacancy defined")
    vacancies: list[Vacancy] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ConfigError(path, f"[[vacancy]] #{index}", "must be a table")
        vacancy = _parse_vacancy(path, index, entry)
        if vacancy.id in seen:
            raise ConfigError(path, f"[[vacancy]] #{index} id", f"duplicate id {vacancy.id!r}")
        seen.add(vacancy.id)
        vacancies.append(vacancy)
    return tuple(vacancies)


def _parse_vacancy(path: Path, index: int, entry: dict[str, Any]) -> Vacancy:
    where = f"[[vacancy]] #{index}"
    if isinstance(entry.get("id"), str):
        where = f"[[vacancy]] {entry['id']}"
    reader = _Reader(path, entry, prefix=where)
    vacancy_id = reader.text("id")
    if not vacancy_id.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(path, f"{where} id", "use letters, digits, '-' and '_' only")
    zone = _zone(reader, "timezone")
    deadline: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    if entry.get("deadline") is not None or reader.raw("channel", "email") == "email":
        deadline, resolution = _parse_deadline(path, f"{where} deadline", entry.get("deadline"))
        closes_at = (deadline.replace(tzinfo=zone) + resolution).astimezone(dt.UTC)

    languages = reader.text_list("languages", default=["en"])
    for language in languages:
        if language not in LANGUAGES:
            raise ConfigError(path, f"{where} languages",
                              f"unsupported language {language!r} (supported: {', '.join(LANGUAGES)})")
    channel = reader.choice("channel", ("email", "e-recruitment"), default="email")
    apply_url = reader.optional_text("apply_url")
    if channel == "e-recruitment" and not apply_url:
        raise ConfigError(path, f"{where} apply_url", "required when channel is 'e-recruitment'")

    checks_reader = reader.table("checks", required=False)
    checks: dict[str, Policy] = {}
    for name in CHECK_NAMES:
        checks[name] = checks_reader.choice(name, CHECK_POLICIES, default="off")  # type: ignore[assignment]
    eligible_raw = checks_reader.raw("eligible", default="nato")
    if isinstance(eligible_raw, str):
        if eligible_raw != "nato":
            raise ConfigError(path, f"{where}.checks eligible",
                              "must be \"nato\" or a list of country names")
        eligible: str | tuple[str, ...] = "nato"
    else:
        eligible = tuple(checks_reader.text_list("eligible"))

    return Vacancy(
        id=vacancy_id,
        title=reader.text("title"),
        aliases=tuple(reader.text_list("aliases", default=[])),
        reference=reader.optional_text("reference"),
        deadline=deadline,
        timezone=zone,
        closes_at=closes_at,
        languages=tuple(languages),
        channel=channel,  # type: ignore[arg-type]
        apply_url=apply_url,
        next_steps=_parse_next_steps(reader, languages),
        resubmission=reader.choice("resubmission", ("latest", "first"),  # type: ignore[arg-type]
                                   default="latest"),
        attachments=_parse_attachments(reader.table("attachments", required=False)),
        checks=checks,
        min_references=checks_reader.integer("min_references", default=3, minimum=0),
        eligible=eligible,
        retention_days=reader.integer("retention_days", default=None, minimum=0),
    )


def _zone(reader: _Reader, key: str, default: str | None = None) -> ZoneInfo:
    """An IANA time zone named by ``key`` (required unless there is a default)."""
    name = reader.text(key) if default is None else reader.optional_text(key) or default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(reader.file, reader.key(key), f"unknown time zone {name!r}") from None


def _parse_recruiters(reader: _Reader) -> tuple[str, ...]:
    """``[digest] recruiters``: the bare addresses the daily digest goes to."""
    addresses = []
    for entry in reader.text_list("recruiters", default=[]):
        address = parseaddr(entry)[1]
        if "@" not in address:
            raise ConfigError(reader.file, reader.key("recruiters"),
                              f"not an e-mail address: {entry!r}")
        addresses.append(address)
    return tuple(addresses)


def _parse_hour(reader: _Reader) -> int:
    hour = reader.integer("hour", default=8, minimum=0)
    if hour > 23:
        raise ConfigError(reader.file, reader.key("hour"), "must be an hour from 0 to 23")
    return int(hour)


def _parse_next_steps(reader: _Reader, languages: list[str]) -> dict[str, str]:
    """``next_steps`` is one text for every language, or a table of texts per language."""
    value = reader.raw("next_steps")
    if value is None:
        return dict(DEFAULT_NEXT_STEPS)
    if isinstance(value, dict):
        table = reader.table("next_steps")
        texts = {language: table.text(language) for language in value}
        return {language: texts.get(language) or next(iter(texts.values()))
                for language in {*languages, *texts}}
    text = reader.text("next_steps")
    return {language: text for language in {*languages, *DEFAULT_NEXT_STEPS}}


def _parse_attachments(reader: _Reader) -> AttachmentPolicy:
    types = tuple(reader.text_list("types", default=["pdf"]))
    for kind in types:
        if kind not in DOCUMENT_TYPES:
            raise ConfigError(reader.file, reader.key("types"),
                              f"unknown type {kind!r} (known: {', '.join(DOCUMENT_TYPES)})")
    count = reader.integer("count", default=None, minimum=0)
    min_count = reader.integer("min_count", default=count if count is not None else 1, minimum=0)
    max_count = reader.integer("max_count", default=count if count is not None else 1, minimum=0)
    if min_count > max_count:
        raise ConfigError(reader.file, reader.key("min_count"), "is larger than max_count")
    return AttachmentPolicy(
        types=types,
        min_count=min_count,
        max_count=max_count,
        max_bytes=reader.integer("max_bytes", default=10_000_000, minimum=1),
        max_pages=reader.integer("max_pages", default=None, minimum=1),
        max_words=reader.integer("max_words", default=None, minimum=1),
        filename_must_contain=tuple(reader.text_list("filename_must_contain", default=[])),
    )


def _parse_deadline(path: Path, key: str, value: Any) -> tuple[dt.datetime, dt.timedelta]:
    """A local deadline and the span it covers: a minute covers the whole minute."""
    if value is None:
        raise ConfigError(path, key, "missing (required for vacancies that take e-mail)")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ConfigError(path, key, "give local time without offset; the zone is `timezone`")
        return value, dt.timedelta(seconds=1) if value.second else dt.timedelta(minutes=1)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time()), dt.timedelta(days=1)
    if not isinstance(value, str):
        raise ConfigError(path, key, "must be a date and time such as \"2026-06-12T23:59\"")
    text = value.strip()
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time()), dt.timedelta(days=1)
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(path, key, f"not a date and time: {value!r} "
                          "(expected e.g. \"2026-06-12T23:59\")") from None
    if parsed.tzinfo is not None:
        raise ConfigError(path, key, "give local time without offset; the zone is `timezone`")
    has_seconds = text.count(":") >= 2
    return parsed, dt.timedelta(seconds=1) if has_seconds else dt.timedelta(minutes=1)


def _resolve_url(path: Path, key: str, url: str, base: Path, schemes: tuple[str, ...]) -> str:
    """Check the scheme and make ``maildir:``/``outbox:`` paths absolute."""
    if not url.startswith(schemes):
        raise ConfigError(path, key, f"must start with one of {', '.join(schemes)}: {url!r}")
    for local in ("maildir:", "outbox:"):
        if url.startswith(local):
            folder = url[len(local):]
            if not folder:
                raise ConfigError(path, key, f"{local} needs a folder path")
            return local + str((base / folder).resolve())
    from intake_bot.netsec import parse_server_url

    try:
        parsed = parse_server_url(url, SERVER_PORTS)
    except ValueError as error:
        raise ConfigError(path, key, str(error)) from None
    if url.startswith("imap") and parsed.user is None:
        raise ConfigError(path, key, "names no user: expected imaps://USER@HOST:PORT/FOLDER")
    return url


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except OSError as error:
        raise ConfigError(path, "", f"cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, "", f"invalid TOML: {error}") from None


class _Reader:
    """Typed access to one TOML table, raising :class:`ConfigError` with the key's name."""

    def __init__(self, file: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.file = file
        self.data = data
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix} {name}" if self.prefix else name

    def raw(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def table(self, name: str, required: bool = True) -> _Reader:
        value = self.data.get(name)
        if value is None:
            if required:
                raise ConfigError(self.file, self._table_key(name), "missing section")
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(self.file, self._table_key(name), "must be a table")
        return _Reader(self.file, value, self._table_key(name))

    def _table_key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else f"[{name}]"

    def text(self, name: str) -> str:
        value = self.data.get(name)
        if value is None:
            raise ConfigError(self.file, self.key(name), "missing")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(self.file, self.key(name), "must be a non-empty string")
        return value.strip()

    def optional_text(self, name: str) -> str | None:
        return self.text(name) if self.data.get(name) is not None else None

    def text_list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self.data.get(name)
        if value is None:
            if default is None:
                raise ConfigError(self.file, self.key(name), "missing")
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(self.file, self.key(name), "must be a list of strings")
        return [v.strip() for v in value]

    def integer(self, name: str, default: int | None, minimum: int) -> Any:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self.file, self.key(name), f"must be a whole number, not {value!r}")
        if value < minimum:
            raise ConfigError(self.file, self.key(name), f"must be at least {minimum}")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.data.get(name, default)
        if value not in choices:
            raise ConfigError(self.file, self.key(name),
                              f"must be one of {', '.join(choices)}, not {value!r}")
        return str(value)

    def unknown_keys(self, known: dict[str, set[str]]) -> list[str]:
        """Keys that no code reads: probably typos, reported as warnings."""
        found = []
        for section, value in self.data.items():
            if section not in known:
                found.append(f"{self.file}: [{section}]: unknown section, ignored")
            elif isinstance(value, dict):
                found += [f"{self.file}: [{section}] {key}: unknown key, ignored"
                          for key in value if key not in known[section]]
        return found
