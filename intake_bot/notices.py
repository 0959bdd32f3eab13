"""Render the candidate's notice from the Jinja2 templates, in the vacancy's languages.

Templates are looked up most specific first: ``<templates>/<vacancy id>/<lang>/<kind>.txt.j2``,
then ``<templates>/<lang>/<kind>.txt.j2``, then the shipped defaults; ``StrictUndefined``
makes a typo fail in ``check-config`` rather than in a candidate's inbox.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import functools
import re
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2

from intake_bot.classify import NOTICE_ID_TAG
from intake_bot.config import Config, ConfigError, Vacancy
from intake_bot.language import detect_language
from intake_bot.localtime import format_moment
from intake_bot.reflect import greeting_name, reflected_file_name, reflected_text
from intake_bot.register import Filing, Notice
from intake_bot.settings import TomlFile, decode_utf8

LANGUAGE_SEPARATOR = "\n\n" + "-" * 60 + "\n\n"
_MESSAGE_ID = re.compile(r"^<[^<>\s\"]{1,500}>$")
#: The candidate's thread is quoted in a notice's References up to this many Message-IDs.
MAX_THREAD_IDS = 10
_COUNTRY_LISTS = {"nato": ("the 32 NATO member countries", "des 32 pays membres de l'OTAN")}


def default_templates_dir() -> Path:
    """The shipped templates: inside the installed package, else the source tree's."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_bundled" / "templates" / "emails",
                      package.parent / "templates" / "emails"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the shipped templates/emails folder is missing")


@dataclass(frozen=True)
class NoticeFacts:
    """The facts of one submission that a notice quotes."""

    kind: str
    languages: Sequence[str]
    recipient: str
    candidate_name: str
    subject: str
    received_at: dt.datetime
    in_reply_to: str | None
    vacancy: Vacancy | None = None
    #: The Message-IDs the candidate's message itself referred to (its thread, oldest first).
    thread: Sequence[str] = ()
    reasons: Sequence[str] = ()
    flags: Sequence[str] = ()
    document_name: str | None = None
    document_pages: int | None = None
    document_count: int = 0
    max_document_pages: int | None = None
    max_document_words: int | None = None


class Notices:
    """Renders notices for one configuration."""

    def __init__(self, config: Config) -> None:
        self.config = config
        folders = [p for p in (config.templates_path, default_templates_dir()) if p]
        self.folders = folders
        self.env = _environment(tuple(str(f) for f in folders))

    def render(self, facts: NoticeFacts, filing: Filing, now: dt.datetime) -> Notice:
        """Render a notice, all its languages in one message, ready to queue.

        The plain-text part is always there; an HTML alternative is added when every
        language has a ``<kind>.html.j2`` template. A mistake in the templates is the
        operator's, not the candidate's: it raises :class:`ConfigError` naming the template
        and line, which stops the cycle instead of quarantining the application.
        """
        try:
            return self._render(facts, filing, now)
        except (jinja2.TemplateError, OSError) as error:
            raise template_error(error, self.folders[0]) from None

    def _render(self, facts: NoticeFacts, filing: Filing, now: dt.datetime) -> Notice:
        contexts = [self._context(facts, language, filing, now) for language in facts.languages]
        texts = [self._render_text(facts, context) for context in contexts]
        subjects = list(dict.fromkeys(subject for subject, _ in texts))
        subject = " / ".join(subjects)
        body = LANGUAGE_SEPARATOR.join(text.strip("\n") for _, text in texts) + "\n"
        htmls = [self._render_html(facts, context) for context in contexts]
        html = "\n<hr>\n".join(htmls) if all(htmls) else None  # type: ignore[arg-type]
        message = self._message(facts, subject, body, html, now)
        return Notice(kind=facts.kind, recipient=facts.recipient,
                      message_id=str(message["Message-ID"]), subject=subject,
                      content=message.as_bytes())

    def explanations(self, facts: NoticeFacts, language: str,
                     now: dt.datetime) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """The reasons and flags of ``facts`` as its notice words them in ``language``:
        two lists of ``code``, ``problem``, ``fix`` (for the recruiters' candidate card)."""
        context = self._context(facts, language, Filing(None), now)
        return context.get("problems", []), context.get("flags", [])

    def _template(self, vacancy: Vacancy | None, language: str, name: str) -> jinja2.Template:
        names = [f"{language}/{name}"]
        if vacancy is not None:
            names.insert(0, f"{vacancy.id}/{language}/{name}")
        return self.env.select_template(names)

    def _render_text(self, facts: NoticeFacts, context: dict[str, Any]) -> tuple[str, str]:
        language = context["language"]
        rendered = self._template(facts.vacancy, language, f"{facts.kind}.txt.j2").render(context)
        first, _, rest = rendered.lstrip("\n").partition("\n")
        if not first.startswith("Subject:"):
            raise jinja2.TemplateError(f"{language}/{facts.kind}.txt.j2 must start with 'Subject:'")
        return " ".join(first[len("Subject:"):].split()), rest.lstrip("\n")

    def _render_html(self, facts: NoticeFacts, context: dict[str, Any]) -> str | None:
        try:
            template = self._template(facts.vacancy, context["language"], f"{facts.kind}.html.j2")
        except jinja2.TemplatesNotFound:
            return None
        return template.render(context)

    def _context(self, facts: NoticeFacts, language: str, filing: Filing,
                 now: dt.datetime) -> dict[str, Any]:
        vacancy = facts.vacancy
        zone = vacancy.timezone if vacancy else self._default_zone
        context: dict[str, Any] = {
            "language": language,
            # What the message chose is quoted only without links or addresses (reflect.py).
            "candidate_name": greeting_name(facts.candidate_name),
            "subject": reflected_text(facts.subject),
            "reference": filing.reference,
            "kept_reference": filing.kept_reference,
            "replaced_references": list(filing.replaced_references),
            "received": format_moment(facts.received_at, zone, language),
            "signature": parseaddr(self.config.from_address)[0] or self.config.from_addr_spec,
            "ambiguous": "ambiguous-vacancy" in facts.reasons,
            "open_vacancies": self._open_vacancies(language, now),
            "document_name": reflected_file_name(facts.document_name),
            "document_pages": facts.document_pages,
        }
        if vacancy is not None:
            context.update(self._vacancy_context(vacancy, language, now))
            explain = {**context, **self._limits_context(facts, vacancy, language)}
            context["problems"] = [self._explain(code, language, explain) for code in facts.reasons]
            context["flags"] = [self._explain(code, language, explain) for code in facts.flags]
            context["can_resubmit"] = (vacancy.is_open(now) and vacancy.channel == "email")
            context["wrong_channel"] = "wrong-channel" in facts.reasons
        return context

    @property
    def _default_zone(self):  # type: ignore[no-untyped-def]
        return self.config.vacancies[0].timezone

    def _vacancy_context(self, vacancy: Vacancy, language: str, now: dt.datetime) -> dict[str, Any]:
        return {
            "vacancy_id": vacancy.id,
            "vacancy_title": title_in(vacancy, language),
            "vacancy_reference": vacancy.reference,
            "deadline": format_deadline(vacancy, language),
            "has_deadline": vacancy.has_deadline,
            "next_steps": vacancy.next_steps.get(language) or next(iter(vacancy.next_steps.values())),
            "apply_url": vacancy.apply_url or "",
            "resubmission": vacancy.resubmission,
        }

    def _limits_context(self, facts: NoticeFacts, vacancy: Vacancy, language: str) -> dict[str, Any]:
        policy = vacancy.attachments
        types = " / ".join(kind.upper() for kind in policy.types)
        if policy.min_count == policy.max_count == 1:
            expected = ("one single {t} document" if language == "en" else "un seul document {t}")
        elif policy.min_count == policy.max_count:
            expected = f"{policy.max_count} {{t}} documents"
        elif policy.max_count is None:
            expected = (f"at least {policy.min_count} {{t}} document"
                        f"{'s' if policy.min_count > 1 else ''}" if language == "en" else
                        f"au moins {policy.min_count} document{'s' if policy.min_count > 1 else ''}"
                        " {t}")
        else:
            expected = f"{policy.min_count}–{policy.max_count} {{t}} documents"
        eligible = vacancy.eligible
        countries = (_COUNTRY_LISTS["nato"] if eligible == "nato"
                     else (", ".join(eligible), ", ".join(eligible)))
        return {
            "expected_documents": expected.format(t=types),
            "document_count": facts.document_count,
            "types": types,
            "max_megabytes": round(policy.max_bytes / 1_000_000, 1),
            "max_pages": policy.max_pages,
            "max_words": policy.max_words,
            "max_document_pages": facts.max_document_pages,
            "max_document_words": facts.max_document_words,
            "filename_words": " and ".join(f"\"{w}\"" for w in policy.filename_must_contain)
            if language == "en" else " et ".join(f"« {w} »" for w in policy.filename_must_contain),
            "min_references": vacancy.min_references,
            "eligible_countries": countries[0],
            "eligible_countries_fr": countries[1],
        }

    def _explain(self, code: str, language: str, context: dict[str, Any]) -> dict[str, str]:
        entry = self._reason_texts(language).get(code, {})
        return {
            "code": code,
            "problem": _compiled(self.env, entry.get("problem", code)).render(context),
            "fix": _compiled(self.env, entry.get("fix", "")).render(context),
        }

    def _reason_texts(self, language: str) -> dict[str, dict[str, str]]:
        return self._reasons_by_language.get(language) or self._reasons_by_language.get("en", {})

    @cached_property
    def _reasons_by_language(self) -> dict[str, dict[str, dict[str, str]]]:
        """reasons.toml per language; a configured folder's entries override the defaults."""
        texts: dict[str, dict[str, dict[str, str]]] = {}
        for folder in reversed(self.folders):
            for path in sorted(folder.glob("*/reasons.toml")):
                texts.setdefault(path.parent.name, {}).update(TomlFile.read(path).data)
        return texts

    def _open_vacancies(self, language: str, now: dt.datetime) -> list[dict[str, Any]]:
        return [{"id": v.id, "subject": title_in(v, language),
                 "deadline": format_deadline(v, language), "has_deadline": v.has_deadline}
                for v in self.config.vacancies if v.is_open(now) and v.channel == "email"]

    def _message(self, facts: NoticeFacts, subject: str, body: str,
                 html: str | None, now: dt.datetime) -> EmailMessage:
        local, _, domain = facts.recipient.rpartition("@")
        # An address that is not ASCII (RFC 6531) can only be written as UTF-8 (RFC 6532),
        # in a notice that only a server offering SMTPUTF8 will take (the transport asks).
        message = EmailMessage(policy=_ASCII if facts.recipient.isascii() else _UTF8)
        message["From"] = self.config.from_address
        message["To"] = Address(username=local, domain=domain) if local else facts.recipient
        if subject.isascii() or message.policy is _UTF8:  # UTF-8 headers need no encoding
            message["Subject"] = subject
        else:
            # The standard policy folds a long non-ASCII subject with a space on both sides
            # of the fold now and then (18 lengths in 59 of a bilingual subject): a reader
            # shows "Candidature  reçue". Encoded words folded by Header keep the text exact.
            message.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())
        _set_plain(message, "Date", format_datetime(now.astimezone(dt.UTC)))
        _set_plain(message, "Message-ID", make_msgid(
            NOTICE_ID_TAG, domain=self.config.from_addr_spec.rpartition("@")[2] or None))
        if facts.in_reply_to and _MESSAGE_ID.match(facts.in_reply_to):
            _set_plain(message, "In-Reply-To", facts.in_reply_to)
            # The candidate's thread, then their message (RFC 5322, 3.6.4), so that their
            # client files the notice with the conversation; the first and the most recent
            # ids are kept of a long thread, as RFC 5322 leaves trimming to the writer.
            thread = [mid for mid in dict.fromkeys(facts.thread)
                      if _MESSAGE_ID.match(mid) and mid != facts.in_reply_to]
            if len(thread) > MAX_THREAD_IDS:
                thread = thread[:1] + thread[1 - MAX_THREAD_IDS:]
            _set_plain(message, "References", " ".join((*thread, facts.in_reply_to)))
        _set_plain(message, "Auto-Submitted", "auto-replied")
        _set_plain(message, "X-Auto-Response-Suppress", "All")
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
        # After set_content, which clears the Content-* headers.
        _set_plain(message, "Content-Language", ", ".join(facts.languages))
        return message


_ASCII = email.policy.default
_UTF8 = email.policy.default.clone(utf8=True)


def _set_plain(message: EmailMessage, name: str, value: str) -> None:
    """Set a header whose value is one short line of our own ASCII, as it is.

    The policy would parse the value into a header object and fold it back on output:
    most of the cost of building a notice, for values that need neither.
    """
    if value.isascii() and len(name) + len(value) < 76:
        message.set_raw(name, value)
    else:
        message[name] = value


@functools.cache
def _environment(folders: tuple[str, ...]) -> jinja2.Environment:
    """One Jinja environment per template folders and process, so that compiled templates
    outlive a cycle (the service compiled them again every cycle, about 20 ms); Jinja still
    reloads a template whose file changed.
    """
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(folders)),
        undefined=jinja2.StrictUndefined,
        # Candidates' names and subjects end up in HTML notices: escape them there.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=False, default=False),
        keep_trailing_newline=True,
        trim_blocks=False,
    )


@functools.lru_cache(maxsize=1024)
def _compiled(env: jinja2.Environment, source: str) -> jinja2.Template:
    """A reason's text compiled once: a burst of rejections explains the same few reasons."""
    return env.from_string(source)


def format_deadline(vacancy: Vacancy, language: str) -> str:
    """The vacancy's deadline as the candidate reads it, in its zone and the language."""
    if vacancy.last_moment is None:
        return "aucune date limite publiée" if language == "fr" else "no published deadline"
    return format_moment(vacancy.last_moment, vacancy.timezone, language)


def title_in(vacancy: Vacancy, language: str) -> str:
    """The vacancy's title in a language: a French alias for French, else the title."""
    if language != "en":
        for alias in vacancy.aliases:
            if detect_language(alias) == language:
                return alias
    return vacancy.title


def template_error(error: jinja2.TemplateError | OSError, folder: Path) -> ConfigError:
    """A template mistake as one :class:`ConfigError` naming the template file and line.

    Jinja reports a syntax error's line itself, and puts the template's own lines in the
    traceback of an error while rendering (an unknown variable, say). ``folder`` stands
    for the file when neither names one.
    """
    if isinstance(error, OSError):
        return ConfigError(error.filename or folder, "", f"cannot read template: {error.strerror}")
    if isinstance(error, jinja2.TemplateSyntaxError):
        return ConfigError(error.filename or folder, "", f"template syntax error: {error.message}",
                           error.lineno)
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if frame.filename.endswith(".j2")]
    if frames:
        return ConfigError(frames[-1].filename, "", f"template error: {error}", frames[-1].lineno)
    return ConfigError(folder, "", f"template error: {error}")


def check_template_syntax(folders: Sequence[Path]) -> int:
    """Compile every template and every reason text of ``folders``; returns how many.

    Each file is compiled on its own, so that a shipped template that an override hides
    is checked too. Raises :class:`ConfigError` naming the file and line of the first
    mistake (a syntax error, an unknown filter, a file that is not UTF-8).
    """
    env = _environment(tuple(str(folder) for folder in folders))
    count = 0
    for folder in folders:
        for path in sorted(folder.rglob("*.j2")):
            source = decode_utf8(path, path.read_bytes())
            try:
                env.compile(source, str(path.relative_to(folder)), str(path))
            except jinja2.TemplateSyntaxError as error:
                raise template_error(error, folder) from None
            count += 1
        for path in sorted(folder.glob("*/reasons.toml")):
            file = TomlFile.read(path)
            for code, texts in file.data.items():
                for field, text in (texts.items() if isinstance(texts, dict) else ()):
                    try:
                        _compiled(env, str(text))  # compiled once, for the notices too
                    except jinja2.TemplateSyntaxError as error:
                        raise file.error((code, field),
                                         f"template syntax error: {error.message}") from None
                    count += 1
    return count


def check_templates(config: Config, now: dt.datetime) -> int:
    """Compile every template, then render every notice of every vacancy in every language
    with sample facts.

    Raises :class:`ConfigError` naming the template and line at the first mistake (a
    syntax error, an unknown variable, a missing file); returns how many notices were
    rendered.
    """
    from intake_bot.register import REPLY_KINDS

    notices = Notices(config)
    check_template_syntax(notices.folders)
    count = 0
    for vacancy in config.vacancies:
        codes = sorted({code for language in vacancy.languages
                        for code in notices._reason_texts(language)})
        for kind in REPLY_KINDS:
            facts = NoticeFacts(
                kind=kind, languages=vacancy.languages, recipient="candidate@example.org",
                candidate_name="Sample Candidate", subject=vacancy.title, received_at=now,
                in_reply_to="<sample@example.org>", vacancy=None if kind == "unmatched" else vacancy,
                reasons=codes if kind == "rejection" else ("unknown-vacancy",),
                flags=("no-text",) if kind == "acknowledgement" else (),
                document_name="application.pdf", document_pages=3, document_count=1)
            notices.render(facts, Filing(f"{vacancy.id}-0002", None, (f"{vacancy.id}-0001",)), now)
            count += 1
    return count
