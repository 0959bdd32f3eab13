"""Register rows as a table, CSV or JSON, for the command line, streamed as they are read."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

from intake_bot.json_columns import JSON_COLUMNS, json_list

LIST_COLUMNS = ("id", "reference", "received_at", "status", "vacancy_id", "sender", "reasons",
                "flags", "document_name")

#: CSV rows written to the output at a time.
BLOCK_ROWS = 256
#: Rows from the register: the column names, and the rows as tuples in that order.
Rows = tuple[Sequence[str], Iterable[Sequence[Any]]]


def decoded(row: dict[str, Any]) -> dict[str, Any]:
    """A register row with its JSON columns as lists and no binary content."""
    return {key: (json_list(value) if key in JSON_COLUMNS and isinstance(value, str) else value)
            for key, value in row.items() if not isinstance(value, bytes)}


def render_rows(rows: Sequence[dict[str, Any]], fmt: str,
                columns: Sequence[str] = LIST_COLUMNS) -> str:
    """A few rows as ``table``, ``csv`` or ``json`` text (see :func:`write_rows`)."""
    names = list(rows[0]) if rows else list(columns)
    buffer = io.StringIO()
    write_rows(lambda: (names, ([row[name] for name in names] for row in rows)), fmt, buffer,
               columns)
    return buffer.getvalue().rstrip("\n")


def write_rows(open_rows: Callable[[], Rows], fmt: str, out: TextIO,
               columns: Sequence[str] = LIST_COLUMNS) -> None:
    """Write rows as ``table`` (aligned text, ``columns`` only), ``csv`` or ``json`` (every
    column; JSON gives the JSON columns as arrays), one row at a time.

    Memory stays constant whatever the number of rows: CSV rows go out as they come, JSON
    as one array written element by element, and the table reads the rows twice (once
    for the column widths, once to print), which is why ``open_rows`` opens them afresh.
    """
    names, rows = open_rows()
    if fmt == "csv":
        # Tuples straight from the cursor, as `sqlite-utils query --csv` writes them, but
        # gathered into blocks: an unbuffered stdout (PYTHONUNBUFFERED) would otherwise
        # take one system call per row.
        block = io.StringIO()
        writer = csv.writer(block)
        writer.writerow(names)
        rows = iter(rows)
        while True:
            writer.writerows(itertools.islice(rows, BLOCK_ROWS))  # the loop stays in C
            text = block.getvalue()
            if not text:
                return
            out.write(text)
            block.seek(0)
            block.truncate()
    if fmt == "json":
        write_json_array((decoded(dict(zip(names, row, strict=True))) for row in rows), out)
        return
    widths = [len(column) for column in columns]
    for cells in _cells(names, rows, columns):
        widths = [max(width, len(cell)) for width, cell in zip(widths, cells, strict=True)]
    out.write(_line(columns, widths))
    names, rows = open_rows()
    for cells in _cells(names, rows, columns):
        out.write(_line(cells, widths))


def write_json_array(items: Iterable[Any], out: TextIO) -> int:
    """``json.dumps(list(items), indent=2, ensure_ascii=False)``, without holding the list;
    returns how many items were written."""
    separator = "[\n  "
    count = 0
    for item in items:
        out.write(separator + json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n  "))
        separator = ",\n  "
        count += 1
    out.write("[]\n" if count == 0 else "\n]\n")
    return count


def _cells(names: Sequence[str], rows: Iterable[Sequence[Any]],
           columns: Sequence[str]) -> Iterable[list[str]]:
    positions = [list(names).index(column) for column in columns]
    for row in rows:
        yield [_cell(row[position], names[position]) for position in positions]


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip() \
        + "\n"


def _cell(value: Any, column: str) -> str:
    """A value as the table shows it: lists comma-separated, nothing as ``-``."""
    if value is None:
        return "-"
    if column in JSON_COLUMNS and isinstance(value, str):
        return ",".join(str(v) for v in json_list(value)) or "-"
    return str(value)
