"""bad-filename: every document's name contains the words the vacancy requires."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    required = [word.casefold() for word in application.vacancy.attachments.filename_must_contain]
    if not required:
        return []
    for document in application.documents:
        name = (document.name or "").casefold()
        if not all(word in name for word in required):
            return ["bad-filename"]
    return []


RULE = Rule(
    name="file-name",
    description="Every document's file name contains each of the vacancy's "
                "filename_must_contain words (case-insensitive).",
    codes=("bad-filename",),
    check=check,
)
