"""Declarative settings: the line of every key is found in the TOML text, whatever its form."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake_bot.settings import (
    REQUIRED,
    ConfigError,
    Integer,
    Section,
    Setting,
    Table,
    Text,
    TomlFile,
    read_table,
    reference_rows,
    toml_literal,
)

TRICKY = '''\
# a comment = 1
title = """
[not.a.table]
key = "inside a string"
"""
list = [
  "a = b",
  [1, 2],
  { x = 1 },
]
"quoted key" = 1
dotted.name = 2
inline = { count = 1 }

[[item]]
id = "A"
[item.sub]
depth = 1

[[item]]  # the second
id = 'B'
  [item.sub]
  depth = 2
literal = \'\'\'
depth = 3
\'\'\'
[ spaced . header ]
last = true
'''


@pytest.mark.parametrize("path, line", [
    (("title",), 2),
    (("key",), None),  # inside a string
    (("list",), 6),
    (("quoted key",), 11),
    (("dotted",), 12),
    (("dotted", "name"), 12),
    (("inline",), 13),
    (("inline", "count"), 13),  # inside an inline table: the line of the table
    (("item", 0), 15),
    (("item", 0, "id"), 16),
    (("item", 0, "sub", "depth"), 18),
    (("item", 1), 20),
    (("item", 1, "id"), 21),
    (("item", 1, "sub"), 22),
    (("item", 1, "sub", "depth"), 23),
    (("item", 1, "sub", "literal"), 24),
    (("item", 1, "sub", "missing"), 22),  # an absent key: the line of its table
    (("spaced", "header", "last"), 28),
])
def test_every_key_is_found_on_its_line(tmp_path: Path, path, line):
    file = tmp_path / "tricky.toml"
    file.write_text(TRICKY, encoding="utf-8")
    assert TomlFile.read(file).line(path) == line


SECTION = Section((
    Setting("name", Text(), help="a name"),
    Setting("size", Integer(1), 10, help="a size"),
    Setting("inner", Table(Section((Setting("depth", Integer(0), 0, help="how deep"),))),
            help="an inner table"),
))


@pytest.mark.parametrize("text, values", [
    ('name = "x"\n', {"name": "x", "size": 10, "inner": {"depth": 0}}),
    ('name = " x "\nsize = 3\n[inner]\ndepth = 2\n', {"name": "x", "size": 3, "inner": {"depth": 2}}),
])
def test_a_table_reads_with_defaults(tmp_path: Path, text, values):
    file = tmp_path / "a.toml"
    file.write_text(text, encoding="utf-8")
    assert read_table(TomlFile.read(file), SECTION) == values


@pytest.mark.parametrize("text, message", [
    ("size = 3\n", ": [name]: missing"),
    ('name = "x"\nnmae = "y"\n', ":2: nmae: unknown key (did you mean 'name'?)"),
    ('name = "x"\nsize = 0\n', ":2: size: must be at least 1"),
    ('name = "x"\n[inner]\ndepht = 1\n', ":3: [inner] depht: unknown key (did you mean 'depth'?)"),
    ('name = "x"\n[inner]\nsize = 1\n',
     ":3: [inner] size: unknown key in this table (it belongs in the top level, above every [section])"),
    ('name = "x"\ninner = 3\n', ":2: inner: must be a table"),
])
def test_a_mistake_names_its_key_and_line(tmp_path: Path, text, message):
    file = tmp_path / "a.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        read_table(TomlFile.read(file), SECTION)
    assert str(raised.value) == f"{file}{message}"


@pytest.mark.parametrize("default, shown", [
    (60, "60"), (25_000_000, "25_000_000"), ("off", '"off"'), (("pdf", "doc"), '["pdf", "doc"]'),
    (True, "true"), (None, None), ((), None), (REQUIRED, None),
])
def test_a_default_is_shown_as_toml_writes_it(default, shown):
    assert toml_literal(default) == shown


def test_a_docs_row_is_the_help_then_the_default():
    assert reference_rows(SECTION, section_column=False) == [
        ("name", "| `name` | a name |"),
        ("size", "| `size` | a size (default `10`) |"),
        ("inner", "| `inner` | an inner table |"),
        ("[inner] depth", "| `depth` | how deep (default `0`) |"),
    ]
