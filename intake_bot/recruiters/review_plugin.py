"""The Datasette plugin of the browser view: each submission's files and notices, read-only.

Routes take a register id, never a path: the path comes from the register, and a file is
served only when it lies under ``[register] documents`` and outside its ``quarantine``
folder (files the virus scan found harmful). So no URL can reach any other
file, whatever it says. Cells that hold a path or a notice's bytes become links to them.
"""

from __future__ import annotations

import email
import email.policy
import urllib.parse
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.app import Datasette
from datasette.utils.asgi import Request, Response
from markupsafe import Markup

from intake_bot.archive import QUARANTINE_AREA
from intake_bot.json_columns import json_list

#: The plugin's name, and the key of its settings in the metadata's ``plugins``.
NAME = "intake-bot"

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "odt": "application/vnd.oasis.opendocument.text",
}
TEXT = "text/plain; charset=utf-8"
#: Candidates' data: never cached on the way, never sniffed into something runnable.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/-/intake/document/(?P<submission_id>\d+)/(?P<index>\d+)$", serve_document),
        (r"^/-/intake/message/(?P<submission_id>\d+)$", serve_message),
        (r"^/-/intake/notice/(?P<reply_id>\d+)$", serve_notice),
    ]


#: Folds the list of column descriptions away, so that the rows come first on the page.
FOLD_DESCRIPTIONS = """
const list = document.querySelector("dl.column-descriptions");
if (list) {
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "What the columns mean";
  list.replaceWith(details);
  details.append(summary, list);
}
"""


@hookimpl
def extra_body_script(view_name: str) -> str | None:
    return FOLD_DESCRIPTIONS if view_name == "table" else None


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str,
                datasette: Datasette) -> Markup | None:
    """Links instead of paths and bytes, in tables and canned queries alike."""
    settings = datasette.plugin_config(NAME) or {}
    # keys(): ``in`` on a sqlite3.Row would look among its values.
    if database != settings.get("database") or not value or "id" not in row.keys():  # noqa: SIM118
        return None
    url = datasette.urls.path
    row_id = row["id"]
    if column == "document_path":
        return _link(url(f"/-/intake/document/{row_id}/0"), "open document")
    if column == "raw_path":
        return _link(url(f"/-/intake/message/{row_id}"), "read e-mail")
    if column == "content" and table == "replies":
        return _link(url(f"/-/intake/notice/{row_id}"), "read notice")
    if column == "id" and table == "applications":
        # A view has no row pages: lead to the submission's own, with its notices.
        return _link(url(f"/{database}/submissions/{row_id}"), str(row_id))
    if column == "attachments":
        links = [_link(url(f"/-/intake/document/{row_id}/{index}"),
                       f"{entry.get('name') or 'document'} ({entry.get('type')}, "
                       f"{entry.get('pages') or '?'} p.)")
                 for index, entry in enumerate(json_list(value)) if entry.get("path")]
        return Markup("<br>").join(links) if links else None
    return None


def _link(href: str, text: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(href, text)


async def serve_document(datasette: Datasette, request: Request) -> Response:
    """One of a submission's documents, shown inline under its own file name."""
    row = await _row(datasette, request, "SELECT attachments FROM submissions WHERE id = ?",
                     request.url_vars["submission_id"])
    if isinstance(row, Response):
        return row
    entries = json_list(row["attachments"])
    index = int(request.url_vars["index"])
    if index >= len(entries) or not entries[index].get("path"):
        return _not_found("no such document (or purged)")
    entry = entries[index]
    return _file(datasette, entry["path"], CONTENT_TYPES.get(entry.get("type"),
                                                             "application/octet-stream"),
                 entry.get("name") or f"document-{index + 1}")


async def serve_message(datasette: Datasette, request: Request) -> Response:
    """The archived e-mail as received, as plain text."""
    submission_id = request.url_vars["submission_id"]
    row = await _row(datasette, request,
                     "SELECT raw_path, reference FROM submissions WHERE id = ?", submission_id)
    if isinstance(row, Response):
        return row
    if not row["raw_path"]:
        return _not_found("no archived e-mail (purged)")
    return _file(datasette, row["raw_path"], TEXT, f"{row['reference'] or submission_id}.eml")


async def serve_notice(datasette: Datasette, request: Request) -> Response:
    """The exact notice sent to the candidate, as plain text."""
    row = await _row(datasette, request, "SELECT content FROM replies WHERE id = ?",
                     request.url_vars["reply_id"])
    if isinstance(row, Response):
        return row
    if not row["content"]:
        return _not_found("no notice content (purged)")
    return Response(readable_notice(bytes(row["content"])), content_type=TEXT,
                    headers=dict(PRIVATE_HEADERS))


def readable_notice(content: bytes) -> str:
    """A stored notice as its reader saw it: the main headers, then the decoded text."""
    message = email.message_from_bytes(content, policy=email.policy.default)
    headers = [f"{name}: {message[name]}" for name in ("Date", "From", "To", "Subject")
               if message[name] is not None]
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return "\n".join(headers) + "\n\n" + str(text)


async def _row(datasette: Datasette, request: Request, sql: str, key: str) -> Any:
    """The register row, or the response to give instead (forbidden, not found)."""
    database = (datasette.plugin_config(NAME) or {}).get("database")
    allowed = await datasette.permission_allowed(request.actor, "view-table",
                                                 (database, "submissions"), default=True)
    if not allowed:
        return Response.text("Forbidden", status=403)
    rows = (await datasette.get_database(database).execute(sql, [int(key)])).rows
    return rows[0] if rows else _not_found("no such row in the register")


def _file(datasette: Datasette, recorded: str, content_type: str, name: str) -> Response:
    """A file the register names, only if it lies under the documents folder."""
    root = Path((datasette.plugin_config(NAME) or {})["documents"]).resolve()
    path = Path(recorded).resolve()
    if path.is_relative_to(root / QUARANTINE_AREA):
        return _not_found("the file is kept apart: the virus scan found it harmful")
    if not path.is_relative_to(root) or not path.is_file():
        return _not_found("the file is not in the documents folder (purged or moved)")
    ascii_name = name.encode("ascii", "ignore").decode().replace('"', "") or "file"
    disposition = (f'inline; filename="{ascii_name}"; '
                   f"filename*=UTF-8''{urllib.parse.quote(name, safe='')}")
    return Response(path.read_bytes(), content_type=content_type,
                    headers={**PRIVATE_HEADERS, "Content-Disposition": disposition})


def _not_found(why: str) -> Response:
    return Response.text(f"Not found: {why}", status=404)
