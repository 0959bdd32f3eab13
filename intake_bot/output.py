"""Register rows as a table, CSV or JSON, for the command line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from intake_bot.json_columns import JSON_COLUMNS, json_list

LIST_COLUMNS = ("id", "reference", "received_at", "status", "vacancy_id", "sender", "reasons",
                "flags", "document_name")


def decoded(row: dict[str, Any]) -> dict[str, Any]:
    """A register row with its JSON columns as lists and no binary content."""
    return {key: (json_list(value) if key in JSON_COLUMNS and isinstance(value, str) else value)
            for key, value in row.items() if not isinstance(value, bytes)}


def render_rows(rows: Sequence[dict[str, Any]], fmt: str,
                columns: Sequence[str] = LIST_COLUMNS) -> str:
    """Rows as ``table`` (aligned text), ``csv`` (every column) or ``json`` (every column)."""
    if fmt == "json":
        return json.dumps([decoded(row) for row in rows], ensure_ascii=False, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        fields = list(rows[0].keys()) if rows else list(columns)
        writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: v for k, v in row.items() if not isinstance(v, bytes)}
                         for row in rows)
        return buffer.getvalue().rstrip("\n")
    return table(rows, columns)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """An aligned plain-text table; lists are shown comma-separated."""
    cells = [[_cell(decoded(row).get(column)) for column in columns] for row in rows]
    widths = [max([len(column), *(len(line[i]) for line in cells)])
              for i, column in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "-"
    return str(value)
