"""too-few-references: enough referees, each with contact details."""

from intake_bot.documents.content import count_references
from intake_bot.rules.base import Application, Rule, check_policy


def check(application: Application) -> list[str]:
    text = application.text
    if not text.strip():
        return []
    enough = count_references(text) >= application.vacancy.min_references
    return [] if enough else ["too-few-references"]


RULE = Rule(
    name="references",
    description="The documents name at least min_references referees with contact details "
                "(an e-mail address or a telephone number).",
    codes=("too-few-references",),
    check=check,
    policy=check_policy("references"),
    needs_text=True,
)
