"""bad-filename: every document's name contains the words the vacancy requires."""

from intake_bot.match import normalise
from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    # Read as subjects are: "PASP0016_Key-challenges.docx" contains "Key challenges", since
    # file names stand for spaces with "_" or "-" and candidates drop accents.
    required = [normalise(words) for words in application.vacancy.attachments.filename_must_contain]
    if not required:
        return []
    for document in application.documents:
        name = normalise(document.name or "")
        if not all(words in name for words in required):
            return ["bad-filename"]
    return []


RULE = Rule(
    name="file-name",
    description="Every document's file name contains each of the vacancy's "
                "filename_must_contain words (blind to case, accents and the separators "
                "between words).",
    codes=("bad-filename",),
    check=check,
)
