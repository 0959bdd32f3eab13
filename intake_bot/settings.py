"""Declarative settings: each TOML table described once, read with one-line errors.

A :class:`Section` lists its :class:`Setting` entries (name, kind, default, help). From
that one table come the parsing (each kind reads and checks its value), the errors for
keys nobody reads (with the nearest known name), and the rows of the reference docs
(``tests/test_docs.py`` checks that the docs carry every row). Errors name the file, the
key and the line it was written on: tomllib gives no positions, so :class:`TomlFile`
finds the lines in the text.
"""

from __future__ import annotations

import codecs
import difflib
import json
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: A key path inside a TOML document: table and key names, and the index of a table in
#: an array of tables, e.g. ``("vacancy", 0, "attachments", "count")``.
KeyPath = tuple[str | int, ...]


class ConfigError(Exception):
    """A configuration mistake, rendered as one line: ``file:line: key: problem``."""

    def __init__(self, file: Path | str, key: str, problem: str, line: int | None = None) -> None:
        self.file = str(file)
        self.key = key
        self.problem = problem
        self.line = line
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


class Invalid(Exception):
    """Raised by a kind: what is wrong with a value, and where below its key (if deeper)."""

    def __init__(self, problem: str, below: KeyPath = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.below = below


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of a setting that has none: leaving it out is an error.
REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Setting:
    """One key: its name, the kind that reads its value, its default, and what it means.

    ``help`` is the key's row in the reference docs, word for word; the docs add the
    default after it (see :func:`reference_rows`), so the help does not repeat it.
    """

    name: str
    kind: Kind | Table | Tables
    default: Any = REQUIRED
    help: str = ""

    @property
    def required(self) -> bool:
        """Whether leaving the key out is an error (a nested table is optional)."""
        return self.default is REQUIRED and not isinstance(self.kind, Table)


@dataclass(frozen=True)
class Section:
    """A TOML table: the settings it may hold, in the order the docs list them."""

    settings: tuple[Setting, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(setting.name for setting in self.settings)

    @property
    def required(self) -> bool:
        """A table is required when one of its keys is."""
        return any(setting.required for setting in self.settings)

    def walk(self, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Setting]]:
        """Every setting with the names of the tables above it, nested tables included."""
        for setting in self.settings:
            yield path, setting
            if isinstance(setting.kind, Table | Tables):
                yield from setting.kind.section.walk((*path, setting.name))


class Kind:
    """How a setting's value is written: ``read`` checks it and returns what the code uses."""

    def read(self, value: Any, base: Path) -> Any:
        """The value as the code uses it; raises :class:`Invalid` naming the problem.

        ``base`` is the folder of the file, against which relative paths resolve.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Kind):
    """A non-empty string, without surrounding white space."""

    def read(self, value: Any, base: Path) -> str:
        if not isinstance(value, str) or not value.strip():
            raise Invalid("must be a non-empty string")
        return value.strip()


@dataclass(frozen=True)
class Texts(Kind):
    """A list of non-empty strings (a lone string is a list of one); optionally from a set,
    and optionally never empty (a list that would make the key mean "nothing")."""

    choices: tuple[str, ...] = ()
    what: str = "value"
    required: bool = False

    def read(self, value: Any, base: Path) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise Invalid("must be a list of strings")
        if self.required and not value:
            raise Invalid(f"must name at least one {self.what}")
        texts = tuple(v.strip() for v in value)
        return tuple(self._chosen(text) for text in texts) if self.choices else texts

    def _chosen(self, text: str) -> str:
        """The choice ``text`` names, whatever its case: ``"FR"`` and ``"PDF"`` are codes too."""
        for choice in self.choices:
            if choice.lower() == text.lower():
                return choice
        raise Invalid(f"unknown {self.what} {text!r}{did_you_mean(text, self.choices)}")


@dataclass(frozen=True)
class Integer(Kind):
    """A whole number from ``minimum`` to ``maximum``."""

    minimum: int
    maximum: int | None = None

    def read(self, value: Any, base: Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"must be a whole number, not {value!r}")
        if value < self.minimum:
            raise Invalid(f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise Invalid(f"must be from {self.minimum} to {self.maximum}")
        return value


@dataclass(frozen=True)
class Choice(Kind):
    """One of a few words."""

    choices: tuple[str, ...]

    def read(self, value: Any, base: Path) -> str:
        if value not in self.choices:
            close = difflib.get_close_matches(value, self.choices, n=1) if isinstance(value, str) else []
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise Invalid(f"must be one of {', '.join(self.choices)}, not {value!r}{hint}")
        return str(value)


@dataclass(frozen=True)
class Zone(Kind):
    """An IANA time zone such as ``Europe/Brussels``."""

    def read(self, value: Any, base: Path) -> ZoneInfo:
        name = Text().read(value, base)
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class Location(Kind):
    """A file or folder; a relative path is relative to the configuration file's folder."""

    def read(self, value: Any, base: Path) -> Path:
        return (base / Text().read(value, base)).resolve()


_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Variable(Kind):
    """The name of an environment variable (that holds a secret, never written in a file)."""

    def read(self, value: Any, base: Path) -> str:
        name = Text().read(value, base)
        if not _VARIABLE.fullmatch(name):
            raise Invalid("not the name of an environment variable: use letters, digits and "
                          "'_' (the secret itself belongs in the environment)")
        return name


@dataclass(frozen=True)
class Table:
    """A nested table of its own settings (``[vacancy.attachments]``), read by :func:`read_table`."""

    section: Section


@dataclass(frozen=True)
class Tables:
    """An array of tables (``[[vacancy]]``), at least one, each read by :func:`read_table`."""

    section: Section


def did_you_mean(word: str, known: Sequence[str], sections: bool = False,
                 otherwise: str | None = None) -> str:
    """``" (did you mean 'letter'?)"`` for the nearest known word, else the known words.

    With ``sections``, the words are shown as section headers: ``[register]``. When no
    known word is close, ``otherwise`` (if given) is said instead of the known words: a
    list too long for one line, such as the country names, is better pointed at.
    """
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean [{close[0]}]?)" if sections else f" (did you mean {close[0]!r}?)"
    if otherwise is not None:
        return f" ({otherwise})"
    return f" (known: {', '.join(f'[{name}]' if sections else name for name in known)})"


@dataclass
class TomlFile:
    """A TOML file as read: its data, its text, and the line on which each key stands."""

    path: Path
    text: str
    data: dict[str, Any]
    _lines: dict[KeyPath, int] | None = field(default=None, repr=False)

    @classmethod
    def read(cls, path: Path) -> TomlFile:
        """Read a UTF-8 TOML file (a byte-order mark is fine); any mistake is a ConfigError."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(path, "", "file not found") from None
        except OSError as error:
            raise ConfigError(path, "", f"cannot read: {error.strerror}") from None
        text = decode_utf8(path, raw)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            at = re.search(r"at line (\d+)", str(error))
            raise ConfigError(path, "", f"invalid TOML: {error}",
                              int(at.group(1)) if at else None) from None
        return cls(path, text, data)

    def line(self, path: KeyPath) -> int | None:
        """The line of the key (or table) at ``path``, else of the nearest table above it."""
        if self._lines is None:
            self._lines = _key_lines(self.text)
        for end in range(len(path), 0, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return None

    def label(self, path: KeyPath) -> str:
        """How an error names ``path``: ``[mailbox] url``, ``[[vacancy]] DRP.checks letter``."""
        tables, key = path, ""
        if path and not isinstance(self.value(path), dict) and not isinstance(path[-1], int):
            tables, key = path[:-1], str(path[-1])
        if not tables:  # a top-level key: a section, unless it holds a plain value
            return key if self.value(path) is not None else f"[{key}]"
        parts: list[str] = []
        for index, part in enumerate(tables):
            if isinstance(part, int):
                entry = self.value(tables[:index + 1])
                name = entry.get("id") if isinstance(entry, dict) else None
                parts[-1] = f"[[{parts[-1]}]] {name if isinstance(name, str) else f'#{part + 1}'}"
            else:
                parts.append(str(part))
        head = parts[0] if parts[0].startswith("[[") else f"[{parts[0]}]"
        table = ".".join([head, *parts[1:]])
        return f"{table} {key}" if key else table

    def value(self, path: KeyPath) -> Any:
        """The raw value at ``path``, or None."""
        value: Any = self.data
        for part in path:
            if isinstance(part, int):
                value = value[part] if isinstance(value, list) and part < len(value) else None
            else:
                value = value.get(part) if isinstance(value, dict) else None
        return value

    def error(self, path: KeyPath, problem: str) -> ConfigError:
        """A :class:`ConfigError` for the key at ``path``, with its line."""
        return ConfigError(self.path, self.label(path), problem, self.line(path))


def decode_utf8(path: Path, raw: bytes) -> str:
    """The text of a file the operator writes, which must be UTF-8 (with or without BOM)."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw[:200]:
        raise ConfigError(path, "", "not UTF-8 (it looks like UTF-16): save it as UTF-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ConfigError(path, "", f"not UTF-8: byte 0x{raw[error.start]:02X} (Latin-1 or "
                          "Windows-1252?): save it as UTF-8", line) from None


def read_table(file: TomlFile, section: Section, path: KeyPath = (),
               root: Section | None = None) -> dict[str, Any]:
    """Check the table at ``path`` against ``section`` and return every setting's value.

    Absent keys take their defaults, nested tables are read likewise, and the first
    mistake (an unknown key, a missing one, a value of the wrong kind) raises a
    :class:`ConfigError` naming the key and its line.
    """
    data = file.value(path) if path else file.data
    if data is None:
        if path and section.required:
            raise file.error(path, "missing section")
        data = {}
    if not isinstance(data, dict):
        raise file.error(path, "must be a table")
    root = root or section
    for key in data:
        if key not in section.names:
            names = tuple(part for part in path if isinstance(part, str))
            raise file.error((*path, key), _unknown(key, isinstance(data[key], dict), section, names, root))
    values: dict[str, Any] = {}
    for setting in section.settings:
        where = (*path, setting.name)
        raw = data.get(setting.name)
        if isinstance(setting.kind, Table):
            values[setting.name] = read_table(file, setting.kind.section, where, root)
        elif isinstance(setting.kind, Tables):
            if not raw or not isinstance(raw, list):
                problem = (f"write each as [[{setting.name}]], not [{setting.name}]" if raw
                           else f"no {setting.name} defined")
                raise ConfigError(file.path, f"[[{setting.name}]]", problem, file.line(where))
            values[setting.name] = [read_table(file, setting.kind.section, (*where, index), root)
                                    for index in range(len(raw))]
        elif raw is None:
            if setting.required:
                raise file.error(where, "missing")
            values[setting.name] = setting.default
        else:
            try:
                values[setting.name] = setting.kind.read(raw, file.path.resolve().parent)
            except Invalid as invalid:
                raise file.error((*where, *invalid.below), invalid.problem) from None
    return values


def _unknown(key: str, table: bool, section: Section, names: tuple[str, ...], root: Section) -> str:
    """The message for a key no setting reads: where it belongs, or the nearest known name.

    ``table`` tells whether the key holds a table; ``names`` are the names of the tables
    down to ``section``, array indexes left out.
    """
    if all(isinstance(setting.kind, Table | Tables) for setting in section.settings) and table:
        return f"unknown section{did_you_mean(key, section.names, sections=True)}"
    homes = [path for path, setting in root.walk()
             if setting.name == key and path != names and not isinstance(setting.kind, Table | Tables)]
    if homes:
        # Most often a key written below a [vacancy.checks] header that belongs above it.
        return f"unknown key in this table (it belongs in {_header(root, homes[0])})"
    return f"unknown key{did_you_mean(key, section.names)}"


def _header(root: Section, names: tuple[str, ...]) -> str:
    """The header of the table at ``names``: ``[mailbox]``, ``[[vacancy]]``, ``[vacancy.checks]``."""
    if not names:
        return "the top level, above every [section]"
    section, tables = root, False
    for name in names:
        kind = next(s.kind for s in section.settings if s.name == name)
        assert isinstance(kind, Table | Tables)
        section, tables = kind.section, isinstance(kind, Tables)
    return f"[[{'.'.join(names)}]]" if tables else f"[{'.'.join(names)}]"


def _key_lines(text: str) -> dict[KeyPath, int]:
    """The first line of every table header and key in a TOML text, by key path."""
    lines: dict[KeyPath, int] = {}
    arrays: dict[KeyPath, int] = {}  # array of tables -> index of its latest table
    table: KeyPath = ()
    state = _Open()  # a multi-line string or array that goes on past the line
    for number, line in enumerate(text.splitlines(), start=1):
        if state.quote or state.depth:
            state = _scan(line, state)
            continue
        stripped = line.strip()
        header = _HEADER.match(stripped)
        if header:
            names = _dotted(header.group(2))
            table = _with_indexes(names[:-1], arrays) + (names[-1],)
            if header.group(1) == "[[":
                arrays[table] = arrays.get(table, -1) + 1
                table = (*table, arrays[table])
            lines.setdefault(table, number)
            continue
        key = _KEY.match(stripped)
        if key:
            names = _dotted(key.group(1))
            for end in range(1, len(names) + 1):
                lines.setdefault((*table, *names[:end]), number)
            state = _scan(key.group(2), state)
    return lines


_NAME = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_HEADER = re.compile(rf"(\[\[?)\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(rf"({_NAME}(?:\s*\.\s*{_NAME})*)\s*=(.*)$")


def _with_indexes(names: tuple[str, ...], arrays: dict[KeyPath, int]) -> KeyPath:
    """A header's parent names with the index of each array of tables among them."""
    path: KeyPath = ()
    for name in names:
        path = (*path, name)
        if path in arrays:
            path = (*path, arrays[path])
    return path


def _dotted(text: str) -> tuple[str, ...]:
    """The names of a dotted key such as ``next_steps.en`` or ``"a b".c``."""
    names = []
    for part in re.findall(_NAME, text):
        if part.startswith('"'):
            try:
                part = json.loads(part)
            except ValueError:  # a TOML escape that JSON lacks: near enough to find a line
                part = part[1:-1]
        names.append(part.strip("'"))
    return tuple(names)


@dataclass(frozen=True)
class _Open:
    """What is still open at the end of a line: a multi-line string, nested brackets."""

    quote: str = ""  # the triple quote of a multi-line string
    depth: int = 0  # brackets and braces of a multi-line array


def _scan(text: str, state: _Open) -> _Open:
    """What is still open after ``text``, a value or the rest of one that ``state`` left open."""
    quote, depth, index = state.quote, state.depth, 0
    while index < len(text):
        if quote:
            end = text.find(quote, index)
            if end == -1:
                break
            index, quote = end + 3, ""
            continue
        if text.startswith(('"""', "'''"), index):
            quote, index = text[index:index + 3], index + 3
            continue
        char = text[index]
        if char == "#":
            break
        if char in "\"'":
            end = index + 1
            while end < len(text) and text[end] != char:
                end += 2 if char == '"' and text[end] == "\\" else 1
            index = end + 1
            continue
        depth += (char in "[{") - (char in "]}")
        index += 1
    return _Open(quote, max(depth, 0))


def reference_rows(root: Section, section_column: bool) -> list[tuple[str, str]]:
    """Each documented setting of a file as (its name, its row in the docs' Markdown table).

    The row is the setting's help and then its default as TOML writes it, so that the
    default is written once, in the table: ``| `poll_seconds` | seconds between cycles of
    `run` (default `60`) |``. With ``section_column`` the row starts with the section, as
    ``intake.toml``'s table does.
    """
    rows = []
    for path, setting in root.walk():
        if not setting.help:
            continue  # a section of intake.toml, or the [[vacancy]] array: named by their keys
        name = f"[{'.'.join(path)}] {setting.name}" if path else setting.name
        cells = [f"`[{'.'.join(path)}]`"] if section_column else []
        shown = toml_literal(setting.default)
        text = f"{setting.help} (default `{shown}`)" if shown else setting.help
        rows.append((name, "| " + " | ".join([*cells, f"`{setting.name}`", text]) + " |"))
    return rows


def toml_literal(value: Any) -> str | None:
    """A default as an operator writes it in TOML (``60``, ``25_000_000``, ``"off"``,
    ``["pdf"]``), or None for none worth showing (required, absent, an empty list)."""
    if value is REQUIRED or value is None or value == ():
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):
        return "[" + ", ".join(toml_literal(item) or "" for item in value) + "]"
    raise TypeError(f"no TOML literal for the default {value!r}")
