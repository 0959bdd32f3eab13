"""Human summaries of the configuration and its vacancies, for ``check-config`` and ``rules``."""

from __future__ import annotations

import datetime as dt

from intake_bot.config import CHECK_NAMES, Config, Vacancy
from intake_bot.localtime import time_left
from intake_bot.rules import RULES


def describe_config(config: Config, now: dt.datetime) -> list[str]:
    """The lines ``check-config`` prints: where things are, then every vacancy and its rules."""
    lines = [
        f"config: {config.path}",
        f"mailbox: {config.mailbox_url} (processed -> {config.processed_folder}, "
        f"quarantine -> {config.quarantine_folder})",
        f"notices: {config.smtp_url} from {config.from_address} "
        f"(at most {config.max_notices_per_address_per_day} per address per day, "
        f"{config.max_notices_per_domain_per_hour} per domain and "
        f"{config.max_notices_per_hour} in all per hour; "
        + (f"only to senders {config.authserv_id} authenticated)" if config.authserv_id
           else "senders not checked: no authserv_id)"),
        f"register: {config.register_path}",
        f"documents: {config.documents_path}",
        f"schedule: a cycle every {config.poll_seconds} s",
        f"vacancies: {len(config.vacancies)} from {config.vacancies_path}",
        "digest: " + (f"daily at {config.digest_hour:02d}:00 {config.digest_timezone.key} to "
                      f"{', '.join(config.digest_recruiters)}" if config.digest_recruiters
                      else "off (no [digest] recruiters)"),
        "scan: " + (f"every attachment by clamd at {config.clamd} (time-out "
                    f"{config.scan_timeout_seconds} s; warns when signatures are over "
                    f"{config.max_signature_age_days} days old)" if config.clamd
                    else "off (no [scan] clamd)"),
    ]
    for vacancy in config.vacancies:
        lines += ["", *describe_vacancy(vacancy, now)]
    return lines


def describe_vacancy(vacancy: Vacancy, now: dt.datetime) -> list[str]:
    """One vacancy: names, deadline in local and UTC time, open or closed, and its rules."""
    lines = [f"  {vacancy.id}: {vacancy.title}"]
    if vacancy.aliases:
        lines.append(f"    aliases: {'; '.join(vacancy.aliases)}")
    if vacancy.reference:
        lines.append(f"    reference: {vacancy.reference}")
    if vacancy.deadline is not None and vacancy.closes_at is not None:
        lines.append(
            f"    deadline: {written_deadline(vacancy)} {vacancy.timezone.key} = "
            f"{vacancy.last_moment:%Y-%m-%d %H:%M} UTC ({time_left(vacancy.closes_at, now)})")
    else:
        lines.append("    deadline: none published (open)")
    channel = vacancy.channel + (f" ({vacancy.apply_url})" if vacancy.apply_url else "")
    lines.append(f"    channel: {channel}; languages: {', '.join(vacancy.languages)}; "
                 f"resubmission: {vacancy.resubmission}")
    policy = vacancy.attachments
    count = (f"{policy.min_count}" if policy.min_count == policy.max_count
             else f"{policy.min_count} or more" if policy.max_count is None
             else f"{policy.min_count}-{policy.max_count}")
    limits = [f"{count} x {'/'.join(policy.types)}", f"max {policy.max_bytes:,} bytes"]
    if policy.max_pages:
        limits.append(f"max {policy.max_pages} pages")
    if policy.max_words:
        limits.append(f"max {policy.max_words} words")
    if policy.filename_must_contain:
        limits.append("file name contains " + " + ".join(policy.filename_must_contain))
    lines.append(f"    attachments: {', '.join(limits)}")
    checks = [f"{name}={vacancy.policy(name)}" for name in CHECK_NAMES]
    eligible = vacancy.eligible if isinstance(vacancy.eligible, str) else ", ".join(vacancy.eligible)
    lines.append(f"    checks: {', '.join(checks)}; min_references={vacancy.min_references}; "
                 f"eligible={eligible}")
    purge_at = vacancy.purge_due_at()
    if purge_at is not None:
        lines.append(f"    retention: personal data purged {vacancy.retention_days} days after "
                     f"the deadline, from {purge_at:%Y-%m-%d %H:%M} UTC")
    active = [rule.name for rule in RULES if rule.policy(vacancy) != "off"]
    lines.append(f"    rules: {', '.join(active)}")
    return lines


def written_deadline(vacancy: Vacancy) -> str:
    """The deadline as the vacancies file gives it: ``2026-06-12 23:59``, to the second
    when written so, or ``2026-06-12 (the whole day)`` for a date alone."""
    assert vacancy.deadline is not None
    local = vacancy.deadline.replace(tzinfo=vacancy.timezone)
    if (local + dt.timedelta(days=1)).astimezone(dt.UTC) == vacancy.closes_at:
        return f"{local:%Y-%m-%d} (the whole day)"
    return f"{local:%Y-%m-%d %H:%M:%S}" if local.second else f"{local:%Y-%m-%d %H:%M}"


def describe_rules() -> list[str]:
    """Every registered rule: name, the reason codes it reports, and what it checks."""
    width = max(len(rule.name) for rule in RULES)
    return [f"{rule.name:<{width}}  {rule.description}  [{', '.join(rule.codes)}]"
            for rule in RULES]
