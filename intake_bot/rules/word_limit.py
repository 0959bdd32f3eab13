"""too-many-words: no Word or ODF document is longer than the vacancy's max_words."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    limit = application.vacancy.attachments.max_words
    if limit is None:
        return []
    return ["too-many-words"] if any((d.info.words or 0) > limit
                                     for d in application.documents) else []


RULE = Rule(
    name="word-limit",
    description="No Word or ODF document has more words in its body than the vacancy's max_words.",
    codes=("too-many-words",),
    check=check,
)
