"""The rules, in the one ordered place where they are registered.

Adding a rule: write one module with a ``RULE`` and append it here; the pipeline does not
change. The order is the order in which reasons are reported to the candidate.
"""

from __future__ import annotations

from collections.abc import Sequence

from intake_bot.config import Vacancy
from intake_bot.rules import (
    active_content,
    attachment_count,
    channel,
    cv,
    deadline,
    document_readable,
    document_size,
    document_type,
    eligibility,
    encrypted_message,
    file_name,
    inspection_time,
    letter,
    message_parts,
    message_size,
    nationality,
    page_limit,
    references,
    server_date,
    text_found,
    virus_scan,
    word_limit,
)
from intake_bot.rules.base import Application, Document, Rule

RULES: tuple[Rule, ...] = (
    # The order in which reasons are reported: the specification's order of reason codes.
    attachment_count.RULE,
    document_type.RULE,
    document_readable.RULE,
    message_size.RULE,
    message_parts.RULE,
    document_size.RULE,
    deadline.RULE,
    server_date.RULE,
    page_limit.RULE,
    word_limit.RULE,
    file_name.RULE,
    channel.RULE,
    text_found.RULE,
    active_content.RULE,
    inspection_time.RULE,
    letter.RULE,
    cv.RULE,
    nationality.RULE,
    references.RULE,
    eligibility.RULE,
    encrypted_message.RULE,
    virus_scan.RULE,
)


def needs_text(vacancy: Vacancy, rules: Sequence[Rule] = RULES) -> bool:
    """Whether any rule that is on for this vacancy reads the documents' text."""
    return any(rule.needs_text and rule.policy(vacancy) != "off" for rule in rules)


def inspection_moot(application: Application, rules: Sequence[Rule] = RULES) -> bool:
    """Whether the message is rejected whatever its documents hold, before they are opened.

    True when a rule that moots the documents, or their inspection (the attachment count),
    rejects: those rules read the number, sizes and kinds of the documents only, which
    are known without opening them.
    """
    return any((rule.moots_inspection or rule.moots_documents)
               and rule.policy(application.vacancy) == "reject" and rule.check(application)
               for rule in rules)


def apply_rules(application: Application,
                rules: Sequence[Rule] = RULES) -> tuple[list[str], list[str]]:
    """Run every rule that is on for the vacancy; return (reasons, flags), each deduplicated.

    Every rule runs, so the candidate hears about every problem at once, except that a
    finding which moots the documents (wrong channel, message too large or in too many parts) silences the
    document rules, wherever they stand in the order.
    """
    findings = []
    for rule in rules:
        policy = rule.policy(application.vacancy)
        if policy != "off":
            findings.append((rule, policy, rule.check(application)))
    documents_moot = any(codes and rule.moots_documents for rule, _, codes in findings)
    reasons: dict[str, None] = {}
    flags: dict[str, None] = {}
    for rule, policy, codes in findings:
        if documents_moot and rule.about_documents:
            continue
        (reasons if policy == "reject" else flags).update(dict.fromkeys(codes))
    return list(reasons), [flag for flag in flags if flag not in reasons]


def told_to_candidate(flags: Sequence[str], rules: Sequence[Rule] = RULES) -> tuple[str, ...]:
    """The flags a candidate's notice explains: all but those meant for recruiters only."""
    quiet = {code for rule in rules if not rule.tells_candidate for code in rule.codes}
    return tuple(flag for flag in flags if flag not in quiet)


__all__ = ["RULES", "Application", "Document", "Rule", "apply_rules", "inspection_moot",
           "needs_text", "told_to_candidate"]
