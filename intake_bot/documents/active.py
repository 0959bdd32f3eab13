"""Active content in a PDF: JavaScript, launch and automatic actions, embedded files.

It runs inside the inspection worker, on a PDF that :func:`~intake_bot.documents.formats.open_pdf`
opened, and looks where a PDF reader would act without being asked or at one click: the
document's open action and automatic actions (``/OpenAction``, ``/AA``), its document-level
scripts and embedded files (``/Names``), and the actions of pages, annotations (links,
file attachments), form fields and bookmarks. The walk visits at most :data:`MAX_VISITS`
objects, so a hostile file cannot make it long; what it could not finish is reported too.
The findings are phrases that recruiters read on the card and in the digest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

JAVASCRIPT_ON_OPEN = "JavaScript on open"
LAUNCH_ON_OPEN = "launch action on open"
AUTOMATIC_ACTIONS = "automatic actions"
JAVASCRIPT_IN_AUTOMATIC_ACTIONS = "JavaScript in automatic actions"
LAUNCH_IN_AUTOMATIC_ACTIONS = "launch action in automatic actions"
JAVASCRIPT_IN_LINKS = "JavaScript in links or form fields"
LAUNCH_IN_LINKS = "launch action in links or form fields"
EMBEDDED_FILES = "embedded files"
NOT_FULLY_CHECKED = "not fully checked"

#: Objects (actions, annotations, fields, bookmarks) looked at, at most, in one document.
MAX_VISITS = 20_000


class _Budget(Exception):
    """The walk visited :data:`MAX_VISITS` objects."""


def pdf_active_content(reader: PdfReader) -> list[str]:
    """What active content the PDF holds, as phrases, in a stable order (empty: none).

    Never raises for a damaged file (a MemoryError excepted, for the worker to recycle
    itself): a structure that cannot be walked to the end adds ``"not fully checked"``
    to what was found before it, since a file built to break the walk is no safer for it.
    """
    walk = _Walk()
    try:
        walk.document(reader)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - hostile input; _Budget included
        walk.found[NOT_FULLY_CHECKED] = None
    return list(walk.found)


class _Walk:
    """One document's walk: what was found so far, and how many objects were visited."""

    def __init__(self) -> None:
        self.found: dict[str, None] = {}
        self.visits = 0

    def document(self, reader: PdfReader) -> None:
        catalog = _dictionary(reader.trailer.get("/Root"))
        if catalog is None:
            return
        self.action(catalog.get("/OpenAction"), JAVASCRIPT_ON_OPEN, LAUNCH_ON_OPEN)
        self.automatic(catalog)
        names = _dictionary(catalog.get("/Names"))
        if names is not None:
            if _non_empty_tree(names.get("/JavaScript")):
                self.found[JAVASCRIPT_ON_OPEN] = None  # document-level scripts run when it opens
            if _non_empty_tree(names.get("/EmbeddedFiles")):
                self.found[EMBEDDED_FILES] = None
        for page in reader.pages:
            self.visit()
            self.automatic(page)
            for annotation in self.items(page.get("/Annots")):
                if annotation.get("/Subtype") == "/FileAttachment":
                    self.found[EMBEDDED_FILES] = None
                self.clicked(annotation)
        form = _dictionary(catalog.get("/AcroForm"))
        if form is not None:
            self.fields(form.get("/Fields"))
        outlines = _dictionary(catalog.get("/Outlines"))
        if outlines is not None:
            self.bookmarks(outlines.get("/First"))

    def visit(self) -> None:
        self.visits += 1
        if self.visits > MAX_VISITS:
            raise _Budget

    def items(self, array: Any) -> Iterator[DictionaryObject]:
        """The dictionaries of an array (resolved), counted against the budget."""
        array = _resolve(array)
        for item in array if isinstance(array, ArrayObject) else ():
            self.visit()
            dictionary = _dictionary(item)
            if dictionary is not None:
                yield dictionary

    def action(self, action: Any, javascript: str, launch: str) -> bool:
        """Note what an action does, following its ``/Next`` chain; False: nothing of note."""
        pending = [action]
        seen: set[int] = set()
        noted = False
        while pending:
            self.visit()
            current = _resolve(pending.pop())
            if isinstance(current, ArrayObject):
                pending.extend(current)
                continue
            if not isinstance(current, DictionaryObject) or id(current) in seen:
                continue
            seen.add(id(current))
            kind = current.get("/S")
            if kind == "/JavaScript" or "/JS" in current:
                self.found[javascript] = None
                noted = True
            elif kind == "/Launch":
                self.found[launch] = None
                noted = True
            if "/Next" in current:
                pending.append(current.get("/Next"))
        return noted

    def automatic(self, holder: DictionaryObject) -> None:
        """Automatic actions (``/AA``): run on events (opening a page, typing), not on a click."""
        actions = _dictionary(holder.get("/AA"))
        if actions is None:
            return
        noted = False
        for key in list(actions)[:100]:
            noted |= self.action(actions.get(key), JAVASCRIPT_IN_AUTOMATIC_ACTIONS,
                                 LAUNCH_IN_AUTOMATIC_ACTIONS)
        if not noted:
            self.found[AUTOMATIC_ACTIONS] = None

    def clicked(self, holder: DictionaryObject) -> None:
        """A link's, field's or bookmark's action (``/A``) and automatic actions."""
        self.action(holder.get("/A"), JAVASCRIPT_IN_LINKS, LAUNCH_IN_LINKS)
        self.automatic(holder)

    def fields(self, fields: Any) -> None:
        pending = list(self.items(fields))
        seen: set[int] = set()
        while pending:
            field = pending.pop()
            if id(field) in seen:
                continue
            seen.add(id(field))
            self.clicked(field)
            pending.extend(self.items(field.get("/Kids")))

    def bookmarks(self, first: Any) -> None:
        pending = [first]
        seen: set[int] = set()
        while pending:
            item = _dictionary(pending.pop())
            if item is None or id(item) in seen:
                continue
            seen.add(id(item))
            self.visit()
            self.clicked(item)
            pending += [item.get("/Next"), item.get("/First")]


def _resolve(value: Any) -> Any:
    return value.get_object() if value is not None and hasattr(value, "get_object") else value


def _dictionary(value: Any) -> DictionaryObject | None:
    value = _resolve(value)
    return value if isinstance(value, DictionaryObject) else None


def _non_empty_tree(value: Any) -> bool:
    """Whether a name tree has entries (``/Names``) or children (``/Kids``)."""
    tree = _dictionary(value)
    if tree is None:
        return False
    return any(isinstance(_resolve(tree.get(key)), ArrayObject) and len(_resolve(tree.get(key)))
               for key in ("/Names", "/Kids"))
