"""Turn a token endpoint's error answer into one line: the provider's code and the fix."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from intake_bot.signin.base import OAuthSettings

_AADSTS = re.compile(r"AADSTS(\d+)")

#: Microsoft Entra ID's codes (``AADSTS...``) an operator can act on, and what to do.
#: ``{secret}``, ``{refresh}``, ``{client}`` and ``{tenant}`` are filled from the settings.
MICROSOFT_FIXES: dict[int, str] = {
    7000215: "the client secret is wrong: put the secret's Value (not its Secret ID) from "
             "Entra ID > App registrations > Certificates & secrets into {secret}",
    7000222: "the client secret has expired: add a new one under Entra ID > App registrations "
             "> Certificates & secrets, put it into {secret} and restart",
    700027: "the certificate is not one of the app's: upload its public part under Entra ID > "
            "App registrations > Certificates & secrets, or fix [oauth2] certificate",
    65001: "admin consent is missing: in Entra ID > App registrations > API permissions, add "
           "Office 365 Exchange Online IMAP.AccessAsApp and SMTP.SendAsApp and press "
           "'Grant admin consent'",
    700016: "the tenant has no app with client_id {client}: check [oauth2] client_id and "
            "tenant, or have an administrator of that tenant consent to the app",
    90002: "tenant {tenant} not found: set [oauth2] tenant to the directory (tenant) ID or a "
           "verified domain of the organisation",
    50173: "the refresh token was revoked (a password change or an admin's revocation): sign "
           "in again, put the new refresh token into {refresh} and restart",
    700082: "the refresh token expired after long inactivity: sign in again, put the new "
            "refresh token into {refresh} and restart",
    70011: "the scope is not valid: client credentials need [oauth2] scope = "
           "\"https://outlook.office365.com/.default\"",
    1002012: "the scope is not valid: client credentials need [oauth2] scope = "
             "\"https://outlook.office365.com/.default\"",
    7000112: "the application is disabled: enable it under Entra ID > Enterprise applications",
    53003: "a Conditional Access policy blocks the app: exclude it from the policy or allow "
           "where the bot runs",
}

#: RFC 6749 5.2 error codes; a Google service account's own where the fix differs.
OAUTH_FIXES: dict[tuple[str, str], str] = {
    ("google", "unauthorized_client"): "domain-wide delegation is missing: in the Admin "
        "console, Security > Access and data control > API controls > Domain-wide "
        "delegation, add the service account's client ID with the scope https://mail.google.com/",
    ("google", "invalid_grant"): "Google refused the service account's assertion: the key "
        "may be deleted or disabled (make a new key and update [oauth2] service_account_file) "
        "or the mailbox user is not a user of the Workspace",
    ("google", "access_denied"): "the service account may not act as this user: check "
        "domain-wide delegation and that the user exists and is active",
    ("*", "invalid_client"): "the client was not accepted: check [oauth2] client_id and the "
        "secret in {secret}",
    ("*", "invalid_grant"): "the refresh token was revoked or has expired: get a new one, "
        "put it into {refresh} and restart",
    ("*", "unauthorized_client"): "the client may not use this grant: allow it on the "
        "identity provider",
    ("*", "invalid_scope"): "the scope is not accepted: check [oauth2] scope",
    ("*", "access_denied"): "the identity provider denied access: check the app's "
                            "permissions there",
}


def explain_refusal(settings: OAuthSettings, body: Mapping[str, Any] | str) -> str:
    """One line for a token endpoint's error ``body`` (its JSON, or its text when not JSON).

    Names the provider, its error code (``AADSTS7000215 (invalid_client)``) and the fix,
    e.g. which admin step is missing. An unknown error keeps the first sentence of the
    provider's description.
    """
    if isinstance(body, str):
        error, description, codes = "", body, []
    else:
        error = str(body.get("error") or "")
        description = str(body.get("error_description") or "")
        codes = [int(code) for code in body.get("error_codes") or [] if str(code).isdigit()]
    codes += [int(code) for code in _AADSTS.findall(description)]
    fix = next((MICROSOFT_FIXES[code] for code in codes if code in MICROSOFT_FIXES), None)
    label = f"AADSTS{codes[0]}" if codes else ""
    if fix is None:
        # Google's own fixes are about a service account; a user's refresh token is generic.
        flavour = "google" if settings.service_account_file else "*"
        fix = OAUTH_FIXES.get((flavour, error)) or OAUTH_FIXES.get(("*", error))
    if fix is None:
        fix = _first_sentence(description) or "no explanation given"
    label = f"{label} ({error})" if label and error else label or error or "error"
    return f"{settings.provider} sign-in refused: {label}: " + fix.format(
        secret=_variable(settings.client_secret_env),
        refresh=_variable(settings.refresh_token_env),
        client=settings.client_id or "(none)",
        tenant=repr(settings.tenant or ""),
    )


def explain_rights(settings: OAuthSettings, user: str, protocol: str) -> str:
    """The fix when a server refuses even a fresh token for ``user``: the app lacks rights."""
    if settings.provider == "microsoft":
        permission = "IMAP.AccessAsApp" if protocol == "IMAP" else "SMTP.SendAsApp"
        extra = ("" if protocol == "IMAP" else
                 f"; and SMTP AUTH must be on for it: Set-CASMailbox -Identity {user} "
                 "-SmtpClientAuthenticationDisabled $false")
        return (f"the app has no rights on mailbox {user}: grant admin consent for "
                f"{permission}, register the app in Exchange (New-ServicePrincipal) and give "
                f"it the mailbox (Add-MailboxPermission -Identity {user} -User <service "
                f"principal id> -AccessRights FullAccess){extra}")
    if settings.provider == "google":
        return (f"Google refused a fresh token for {user}: check that the user exists, that "
                f"{protocol} access is on for it in the Admin console, and the scope "
                "https://mail.google.com/ in domain-wide delegation")
    return (f"the server refused a fresh token for {user}: the token's owner may have no "
            "rights on this mailbox")


def _variable(name: str | None) -> str:
    return f"${name}" if name else "the configured variable"


def _first_sentence(text: str) -> str:
    """The first sentence of a provider's description, on one line, without trace ids."""
    text = " ".join(text.split())
    return text.split(". ")[0].rstrip(".")[:200]
