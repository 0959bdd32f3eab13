"""no-attachment, multiple-attachments, too-few-attachments: the number of documents."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    policy = application.vacancy.attachments
    count = len(application.documents)
    if count == 0 and policy.min_count > 0:
        return ["no-attachment"]
    if count < policy.min_count:
        return ["too-few-attachments"]
    if policy.max_count is not None and count > policy.max_count:
        return ["multiple-attachments"]
    return []


RULE = Rule(
    name="attachment-count",
    description="The candidate attached as many documents as the vacancy asks for "
                "(inline signature images do not count).",
    codes=("no-attachment", "multiple-attachments", "too-few-attachments"),
    check=check,
    moots_inspection=True,
)
