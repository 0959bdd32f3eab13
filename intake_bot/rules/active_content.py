"""active-content: a PDF carries JavaScript, launch or automatic actions, or embedded files."""

from intake_bot.config import Policy, Vacancy
from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    return ["active-content"] if any(d.info.active_content for d in application.documents) else []


def policy(_vacancy: Vacancy) -> Policy:
    """Always a flag: such a PDF may be innocent (forms), but recruiters should know first."""
    return "flag"


RULE = Rule(
    name="active-content",
    description="A PDF with JavaScript, launch or automatic actions or embedded files is "
                "flagged for recruiters (the card and the digest say what it holds); the "
                "candidate is not told.",
    codes=("active-content",),
    check=check,
    policy=policy,
    tells_candidate=False,
)
