"""The register's JSON array columns (``reasons``, ``flags``, ``attachments``, ``malware``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

#: The columns of ``submissions`` that hold a JSON array.
JSON_COLUMNS = ("reasons", "flags", "attachments", "malware")


def json_list(text: str | None) -> list[Any]:
    """A JSON array column as a list; NULL is empty."""
    return list(json.loads(text or "[]"))


def json_text(values: Iterable[Any]) -> str:
    """The text a JSON array column stores: ``["late", "not-pdf"]``."""
    return json.dumps(list(values))
