"""unreadable-pdf, encrypted-pdf, unreadable-document: the documents open for reading."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    codes = []
    types = application.vacancy.attachments.types
    for document in application.documents:
        info = document.info
        if info.kind not in types or info.readable or not info.inspected:
            continue
        if info.encrypted:
            codes.append("encrypted-pdf" if info.kind == "pdf" else "unreadable-document")
        else:
            codes.append("unreadable-pdf" if info.kind == "pdf" else "unreadable-document")
    return list(dict.fromkeys(codes))


RULE = Rule(
    name="document-readable",
    description="Every document opens without a password and parses "
                "(an owner password that only restricts printing is fine).",
    codes=("unreadable-pdf", "encrypted-pdf", "unreadable-document"),
    check=check,
)
