"""The Datasette plugin of the browser view: candidate cards, plain words, local times, files.

Through Datasette's own extension points only: ``extra_template_vars`` gives a submission's
page its candidate card (drawn by ``templates/row-register-submissions.html``);
``render_cell`` shows times in the vacancy's zone, reasons and flags in the words of the
notices, and links instead of paths and bytes, in tables, views and canned queries alike
(the stored values stay, so sorting and facets work as before); ``register_routes`` serves
a submission's files by register id and keeps Datasette's own pages that show server
paths or settings out of reach.

Routes take a register id, never a path: the file's name comes from the register, and a
file is served only when it lies under ``[register] documents`` and outside its
``quarantine`` folder (files the virus scan found harmful). So no URL can reach any other
file, whatever it says. The register names files under the documents folder, so its JSON
and CSV name no server folder either.
"""

from __future__ import annotations

import email
import email.policy
import functools
import urllib.parse
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.app import Datasette
from datasette.utils.asgi import Request, Response
from markupsafe import Markup

from intake_bot.archive import Archive, OutsideDocuments
from intake_bot.config import Config, load_config
from intake_bot.json_columns import json_list
from intake_bot.localtime import city_name, local_text, parse_utc
from intake_bot.notices import Notices
from intake_bot.recruiters.card import build_card, explain_codes

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
#: Register times, shown in the vacancy's zone (the recruiters' zone for rows without one).
TIME_COLUMNS = ("received_at", "registered_at", "sent_at", "created_at", "next_attempt_at",
                "purged_at")
#: Datasette's own pages that show server paths, the plugins' settings or the process.
HIDDEN_PAGES = r"^/-/(metadata|databases|settings|config|plugins|threads)(\.json)?$"


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/-/intake/document/(?P<submission_id>\d+)/(?P<index>\d+)$", serve_document),
        (r"^/-/intake/message/(?P<submission_id>\d+)$", serve_message),
        (r"^/-/intake/notice/(?P<reply_id>\d+)$", serve_notice),
        (HIDDEN_PAGES, not_served),
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
def extra_template_vars(view_name: str, table: str | None, database: str | None,
                        request: Request, datasette: Datasette) -> Any:
    """A submission's page gets its candidate card (``card``)."""
    if view_name != "row" or table != "submissions" or database != _settings(datasette)["database"]:
        return None

    async def card_vars() -> dict[str, Any]:
        return {"card": await _card(datasette, request)}

    return card_vars


async def _card(datasette: Datasette, request: Request) -> Any:
    settings = _settings(datasette)
    database = datasette.get_database(settings["database"])
    try:
        submission_id = int(request.url_vars["pks"])
    except (KeyError, ValueError):
        return None
    found = (await database.execute("SELECT * FROM submissions WHERE id = ?",
                                    [submission_id])).rows
    if not found:
        return None
    row = dict(found[0])
    replies = [dict(r) for r in (await database.execute(
        "SELECT id, kind, recipient, status, attempts, last_error, sent_at, subject "
        "FROM replies WHERE submission_id = ? ORDER BY id", [submission_id])).rows]
    history: list[dict[str, Any]] = []
    if row["vacancy_id"] and row["sender"]:
        history = [dict(r) for r in (await database.execute(
            "SELECT id, reference, status, received_at, document_name FROM submissions "
            "WHERE vacancy_id = ? AND lower(sender) = lower(?) AND id != ? "
            "ORDER BY received_at, id", [row["vacancy_id"], row["sender"], submission_id])).rows]
    raw = _fenced(settings, row["raw_path"])
    # The decision's words as of its own time: the notice was worded then.
    decided_at = parse_utc(row["received_at"])
    return build_card(_notices(settings), row, replies, history,
                      raw.read_bytes() if raw else None, decided_at)


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str,
                datasette: Datasette) -> Markup | None:
    """Words and local times instead of codes and UTC; links instead of paths and bytes."""
    settings = _settings(datasette)
    # keys(): ``in`` on a sqlite3.Row would look among its values.
    names = row.keys()
    if database != settings.get("database") or value in (None, "") or "id" not in names:  # noqa: SIM118
        return None
    url = datasette.urls.path
    row_id = row["id"]
    vacancy_id = row["vacancy_id"] if "vacancy_id" in names else None
    if column in TIME_COLUMNS and isinstance(value, str):
        return _local_time(_config(settings), vacancy_id, value)
    if column in ("reasons", "flags") and table != "replies" and isinstance(value, str):
        return _in_words(_notices(settings), vacancy_id, column, value,
                         {name: row[name] for name in names})
    if column == "document_path":
        return _link(url(f"/-/intake/document/{row_id}/0"), "open document")
    if column == "raw_path":
        return _link(url(f"/-/intake/message/{row_id}"), "read e-mail")
    if column == "content" and table == "replies":
        return _link(url(f"/-/intake/notice/{row_id}"), "read notice")
    if column == "id" and table != "replies" and table != "purges" and table != "digests":
        # Views and canned queries have no row pages: lead to the submission's own card.
        return _link(url(f"/{database}/submissions/{row_id}"), str(row_id))
    if column == "attachments":
        links = [_link(url(f"/-/intake/document/{row_id}/{index}"),
                       f"{entry.get('name') or 'document'} ({entry.get('type')}, "
                       f"{entry.get('pages') or '?'} p.)")
                 for index, entry in enumerate(json_list(value)) if entry.get("path")]
        return Markup("<br>").join(links) if links else None
    return None


def _local_time(config: Config, vacancy_id: str | None, value: str) -> Markup | None:
    """``2026-06-10 09:12:00 Brussels``, the UTC value in its tooltip."""
    zone = config.local_zone(vacancy_id)
    try:
        moment = parse_utc(value)
    except ValueError:
        return None
    return Markup('<span title="{} UTC">{} {}</span>').format(
        value, local_text(moment, zone), city_name(zone, "en"))


def _in_words(notices: Notices, vacancy_id: str | None, column: str, value: str,
              row: dict[str, Any]) -> Markup | None:
    """Each code as the notice words it, the code in its tooltip; nothing for an empty list."""
    codes = json_list(value)
    if not codes:
        return Markup("-")
    reasons, flags = explain_codes(notices, vacancy_id, codes if column == "reasons" else [],
                                   codes if column == "flags" else [], row)
    return Markup("<br>").join(Markup('<span title="{}">{}</span>').format(e.code, e.problem)
                               for e in reasons + flags)


def _settings(datasette: Datasette) -> dict[str, Any]:
    return datasette.plugin_config(NAME) or {}


def _config(settings: dict[str, Any]) -> Config:
    return _notices(settings).config


def _notices(settings: dict[str, Any]) -> Notices:
    return _load_notices(settings["config"])


@functools.lru_cache(maxsize=4)
def _load_notices(path: str) -> Notices:
    """The notices of the configuration the view was started with (read once a process)."""
    return Notices(load_config(path))


def _link(href: str, text: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(href, text)


async def not_served(datasette: Datasette, request: Request) -> Response:
    """Datasette's pages of paths, settings and plugins: not for recruiters' browsers."""
    return _not_found("this page of the server is not served")


async def serve_document(datasette: Datasette, request: Request) -> Response:
    """One of a submission's documents, shown inline (``?download=1``: saved) under its own
    file name."""
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
                 entry.get("name") or f"document-{index + 1}",
                 "attachment" if request.args.get("download") else "inline")


async def serve_message(datasette: Datasette, request: Request) -> Response:
    """The archived e-mail as received (the raw source), as plain text."""
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
    database = _settings(datasette).get("database")
    allowed = await datasette.permission_allowed(request.actor, "view-table",
                                                 (database, "submissions"), default=True)
    if not allowed:
        return Response.text("Forbidden", status=403)
    rows = (await datasette.get_database(database).execute(sql, [int(key)])).rows
    return rows[0] if rows else _not_found("no such row in the register")


def _fenced(settings: dict[str, Any], recorded: str | None) -> Path | None:
    """A file the register names, only if it lies under the documents folder, and not in
    the part kept apart for what the virus scan found."""
    if not recorded:
        return None
    archive = _archive(settings["documents"])
    try:
        path = archive.resolve(recorded)
    except OutsideDocuments:
        return None
    if archive.is_quarantined(path):
        return None  # kept apart: the virus scan found it harmful
    return path if path.is_file() else None


@functools.lru_cache(maxsize=4)
def _archive(documents: str) -> Archive:
    """The documents folder the view was started with."""
    return Archive(Path(documents))


def _file(datasette: Datasette, recorded: str, content_type: str, name: str,
          disposition: str = "inline") -> Response:
    path = _fenced(_settings(datasette), recorded)
    if path is None:
        return _not_found("the file is not in the documents folder (purged or moved)")
    ascii_name = name.encode("ascii", "ignore").decode().replace('"', "") or "file"
    header = (f'{disposition}; filename="{ascii_name}"; '
              f"filename*=UTF-8''{urllib.parse.quote(name, safe='')}")
    return Response(path.read_bytes(), content_type=content_type,
                    headers={**PRIVATE_HEADERS, "Content-Disposition": header})


def _not_found(why: str) -> Response:
    return Response.text(f"Not found: {why}", status=404)
