"""too-many-pages: no PDF is longer than the vacancy's max_pages."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    limit = application.vacancy.attachments.max_pages
    if limit is None:
        return []
    return ["too-many-pages"] if any((d.info.pages or 0) > limit
                                     for d in application.documents) else []


RULE = Rule(
    name="page-limit",
    description="No PDF has more pages than the vacancy's max_pages.",
    codes=("too-many-pages",),
    check=check,
)
