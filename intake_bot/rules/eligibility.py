"""not-member-national: one nationality the CV states is eligible for the vacancy."""

from intake_bot.documents.content import is_eligible, stated_nationalities
from intake_bot.rules.base import Application, Rule, check_policy


def check(application: Application) -> list[str]:
    text = application.text
    if not text.strip():
        return []
    nationalities = stated_nationalities(text)
    if not nationalities:
        return ["missing-nationality"]
    eligible = application.vacancy.eligible
    return [] if is_eligible(nationalities, eligible) else ["not-member-national"]  # type: ignore[arg-type]


RULE = Rule(
    name="eligibility",
    description="One stated nationality is eligible (the 32 NATO member states, "
                "or the vacancy's own list).",
    codes=("not-member-national", "missing-nationality"),
    check=check,
    policy=check_policy("eligibility"),
    needs_text=True,
)
