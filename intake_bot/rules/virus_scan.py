"""malware: the virus scan (clamd) found a known signature in an attachment."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    return ["malware"] if any(document.malware for document in application.documents) else []


RULE = Rule(
    name="virus-scan",
    description="No attachment carries a virus or other harmful content that ClamAV knows "
                "(with [scan] clamd set); such files are kept apart from the documents.",
    codes=("malware",),
    check=check,
    # The candidate must send a clean copy; what else the infected file got wrong is moot.
    moots_documents=True,
    about_documents=False,
)
