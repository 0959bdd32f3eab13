"""not-pdf, wrong-type: each document is of a type the vacancy accepts, judged by content."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    types = application.vacancy.attachments.types
    if all(document.info.kind in types for document in application.documents):
        return []
    return ["not-pdf"] if types == ("pdf",) else ["wrong-type"]


RULE = Rule(
    name="document-type",
    description="Every document is of an accepted type (pdf, docx, doc, odt), "
                "recognised by its content, not its name.",
    codes=("not-pdf", "wrong-type"),
    check=check,
)
