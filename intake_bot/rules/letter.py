"""missing-letter: the documents contain a letter of application."""

from intake_bot.documents.content import has_application_letter
from intake_bot.rules.base import Application, Rule, check_policy


def check(application: Application) -> list[str]:
    text = application.text
    return ["missing-letter"] if text.strip() and not has_application_letter(text) else []


RULE = Rule(
    name="letter",
    description="The documents contain a letter of application (English or French wording).",
    codes=("missing-letter",),
    check=check,
    policy=check_policy("letter"),
    needs_text=True,
)
