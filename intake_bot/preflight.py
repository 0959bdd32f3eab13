"""Everything a cycle would fail on, found before it starts: the check behind ``check-config``.

Loading the configuration checks each file on its own. Here come the checks that look
further: vacancy names that a subject could not tell apart, the places the bot writes,
the secrets it reads from the environment, and every notice template, compiled and
rendered. ``check-config``, ``run``, ``run --once``, ``demo`` and ``replay`` all pass
through :func:`preflight`, so a configuration that one of them accepts, all of them do.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from intake_bot.codes import known_codes
from intake_bot.config import LANGUAGES, Config, ConfigError, Vacancy
from intake_bot.mailbox import open_mailbox
from intake_bot.match import normalise
from intake_bot.notices import check_templates
from intake_bot.settings import TomlFile, did_you_mean
from intake_bot.transport import open_transport


def preflight(config: Config, now: dt.datetime) -> int:
    """Check what loading the configuration cannot; returns how many notices rendered.

    Raises :class:`ConfigError` naming the file, key and line of the first problem. Nothing
    is written and no server is contacted (``check-config --connect`` does that).
    """
    check_vacancy_names(config)
    check_places(config)
    check_secrets(config)
    check_override_folders(config)
    check_reason_texts(config)
    return check_templates(config, now)


def check_vacancy_names(config: Config) -> None:
    """No two vacancies share a title, alias or reference, as the subject matcher reads them.

    A subject naming such a text would match both vacancies and be filed as
    ``ambiguous-vacancy``; a text with no letter or digit would never match at all.
    """
    file: TomlFile | None = None
    owners: dict[str, tuple[Vacancy, str]] = {}
    for index, vacancy in enumerate(config.vacancies):
        forms = [("title", vacancy.title), *(("aliases", alias) for alias in vacancy.aliases)]
        forms += [("reference", vacancy.reference)] if vacancy.reference else []
        for key, form in forms:
            needle = normalise(form)
            problem = None
            if not needle:
                problem = f"{form!r} has no letter or digit: no subject can match it"
            elif needle in owners and owners[needle][0].id != vacancy.id:
                other, other_key = owners[needle]
                problem = (f"{form!r} is also {other.id}'s {_ONE[other_key]}: a subject naming "
                           "it would match both (ambiguous-vacancy)")
            if problem:
                file = file or TomlFile.read(config.vacancies_path)
                raise file.error(("vacancy", index, key), problem)
            owners.setdefault(needle, (vacancy, key))


_ONE = {"title": "title", "aliases": "alias", "reference": "reference"}


def check_places(config: Config) -> None:
    """Every folder and file the bot writes can be written (or made), as the bot's user."""
    places = [(("register", "path"), config.register_path, False),
              (("register", "documents"), config.documents_path, True)]
    for section, url in (("mailbox", config.mailbox_url), ("smtp", config.smtp_url)):
        for scheme in ("maildir:", "outbox:"):
            if url.startswith(scheme):
                places.append(((section, "url"), Path(url[len(scheme):]), True))
    for key, path, folder in places:
        problem = unwritable(path, folder)
        if problem:
            raise config.error(key, problem)


def unwritable(path: Path, folder: bool) -> str | None:
    """Why the bot could not write ``path`` (a folder, or a file in its folder), or None.

    A missing path is fine when the nearest existing folder above it is writable: the bot
    makes the rest. A file also needs its folder writable (SQLite writes its journal and
    the cycle lock beside the register).
    """
    if path.exists():
        if folder and not path.is_dir():
            return f"{path} is a file, not a folder"
        if not folder and path.is_dir():
            return f"{path} is a folder, not a file"
        if not os.access(path, os.W_OK):
            return f"{path} is not writable"
        if folder:
            return None
    above = path.parent
    while not above.exists():
        above = above.parent
    if not above.is_dir():
        return f"{above} is a file, so {path} cannot be made"
    if not os.access(above, os.W_OK | os.X_OK):
        return f"{above} is not writable, so {path} cannot be made"
    return None


def check_secrets(config: Config) -> None:
    """The mailbox and the transport can be built as a cycle builds them: every secret they
    read from the environment is set, and every server URL they parse is sound.

    Building connects to nothing. A local Maildir or outbox needs no secret, and building
    the Maildir would make its folders, so those two are left to :func:`check_places`.
    """
    if not config.mailbox_url.startswith("maildir:"):
        open_mailbox(config).close()
    if not config.smtp_url.startswith("outbox:"):
        open_transport(config).close()


def check_override_folders(config: Config) -> None:
    """The template override folder exists, and each folder in it names a language or a
    vacancy (whose folders name languages): a misspelt one would silently be ignored."""
    folder = config.templates_path
    if folder is None:
        return
    if not folder.is_dir():
        raise config.error(("notices", "templates"), f"no such folder: {folder}")
    ids = [vacancy.id for vacancy in config.vacancies]
    for path in sorted(folder.iterdir()):
        if path.is_dir() and path.name not in (*LANGUAGES, *ids):
            raise ConfigError(path, "", "neither a language nor a vacancy id"
                              + did_you_mean(path.name, [*LANGUAGES, *ids]))
        if path.is_dir() and path.name in ids:
            for inner in sorted(path.iterdir()):
                if inner.is_dir() and inner.name not in LANGUAGES:
                    raise ConfigError(inner, "", "not a language" + did_you_mean(inner.name, LANGUAGES))


REASON_TEXT_FIELDS = ("problem", "fix")


def check_reason_texts(config: Config) -> None:
    """Each ``reasons.toml`` of the override folder stands where notices read it (a language
    folder) and words only codes this version records, with a ``problem`` and a ``fix``:
    a misspelt code or field would leave the shipped text in every notice, unnoticed."""
    folder = config.templates_path
    if folder is None:
        return
    codes = sorted(known_codes())
    for path in sorted(folder.rglob("reasons.toml")):
        if path.parent.parent != folder or path.parent.name not in LANGUAGES:
            raise ConfigError(path, "", "reason texts are read only from a language folder: "
                              f"move it to {folder / 'en' / 'reasons.toml'} (or fr)")
        file = TomlFile.read(path)
        for code, texts in file.data.items():
            if code not in codes:
                raise file.error((code,), "not a reason or flag code" + did_you_mean(code, codes))
            if not isinstance(texts, dict):
                raise file.error((code,), "must be a table with problem = \"...\" and fix = \"...\"")
            for field, text in texts.items():
                if field not in REASON_TEXT_FIELDS:
                    raise file.error((code, field), "unknown key"
                                     + did_you_mean(field, REASON_TEXT_FIELDS))
                if not isinstance(text, str):
                    raise file.error((code, field), "must be text in quotes")
