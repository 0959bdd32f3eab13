"""active-content: a PDF carries JavaScript, launch or automatic actions, or embedded files."""

from intake_bot.rules.base import Application, Rule, always_flag


def check(application: Application) -> list[str]:
    return ["active-content"] if any(d.info.active_content for d in application.documents) else []


RULE = Rule(
    name="active-content",
    description="A PDF with JavaScript, launch or automatic actions or embedded files is "
                "flagged for recruiters (the card and the digest say what it holds); the "
                "candidate is not told.",
    codes=("active-content",),
    check=check,
    policy=always_flag,  # such a PDF may be innocent (forms), but recruiters should know first
    tells_candidate=False,
)
