"""no-text: the documents have no extractable text (a scan), so no content check can run."""

from intake_bot.config import CHECK_NAMES, Policy, Vacancy
from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    types = application.vacancy.attachments.types
    readable = [d for d in application.documents if d.info.readable and d.info.kind in types]
    if readable and not any(c.isalnum() for c in application.text):
        return ["no-text"]
    return []


def policy(vacancy: Vacancy) -> Policy:
    """Always a flag, and only where a content check wanted the text."""
    return "flag" if any(vacancy.policy(name) != "off" for name in CHECK_NAMES) else "off"


RULE = Rule(
    name="text-found",
    description="The documents carry extractable text; a scan is flagged, never rejected, "
                "because no content check can read it.",
    codes=("no-text",),
    check=check,
    policy=policy,
    needs_text=True,
)
