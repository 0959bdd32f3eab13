"""missing-cv: the documents contain a curriculum vitae."""

from intake_bot.documents.content import has_cv
from intake_bot.rules.base import Application, Rule, check_policy


def check(application: Application) -> list[str]:
    text = application.text
    return ["missing-cv"] if text.strip() and not has_cv(text) else []


RULE = Rule(
    name="cv",
    description="The documents contain a CV (headings such as education and experience, "
                "in English or French).",
    codes=("missing-cv",),
    check=check,
    policy=check_policy("cv"),
    needs_text=True,
)
