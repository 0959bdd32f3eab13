"""Reading our receiving server's Authentication-Results (RFC 8601): tables of real shapes."""

from __future__ import annotations

import pytest

from intake_bot.authres import MethodResult, parse_authentication_results, sender_verdict

MX = "mx.example.org"

# The shapes real servers write (values as a parsed header gives them: unfolded).
GMAIL_LIKE = (
    "mx.example.org; dkim=pass header.i=@example.net header.s=20230601 header.b=Ab/c+9=;"
    " spf=pass (mx.example.org: domain of alice@example.net designates 192.0.2.7 as permitted"
    " sender) smtp.mailfrom=alice@example.net; dmarc=pass (p=REJECT sp=REJECT dis=NONE)"
    " header.from=example.net")
RSPAMD_LIKE = (
    "mx.example.org; dkim=pass header.d=example.net header.s=dkim header.b=XyZ;"
    " spf=pass (mx.example.org: domain of alice@example.net designates 192.0.2.7 as permitted"
    " sender) smtp.mailfrom=alice@example.net; dmarc=pass (policy=reject) header.from=example.net")
OPENDKIM_LIKE = ("mx.example.org/3A9F61C1; dkim=pass (2048-bit key; unprotected)"
                 " header.d=example.net header.i=@example.net header.a=rsa-sha256 header.s=s1"
                 " header.b=QWxp")
OPENDMARC_FAIL = "mx.example.org; dmarc=fail (p=reject dis=none) header.from=example.net"
MICROSOFT_LIKE = ("spf=pass (sender IP is 192.0.2.7) smtp.mailfrom=example.net; dkim=pass"
                  " (signature was verified) header.d=example.net;dmarc=pass action=none"
                  " header.from=example.net;compauth=pass reason=100")


@pytest.mark.parametrize(("value", "authserv_id", "results"), [
    ("mx.example.org; none", MX, []),
    ("mx.example.org 1; spf=pass smtp.mailfrom=example.net", MX,
     [("spf", "pass", {"smtp.mailfrom": "example.net"})]),
    ('"mx.example.org"; dkim/1 = pass header.d = example.net', MX,
     [("dkim", "pass", {"header.d": "example.net"})]),
    ("mx.example.org (a (nested) comment); SPF=Fail (no; really) reason=\"bad; ip\""
     " smtp.mailfrom=x@example.net", MX,
     [("spf", "fail", {"smtp.mailfrom": "x@example.net"})]),
    (OPENDKIM_LIKE, "mx.example.org/3A9F61C1",
     [("dkim", "pass", {"header.d": "example.net", "header.i": "@example.net",
                        "header.a": "rsa-sha256", "header.s": "s1", "header.b": "QWxp"})]),
    (GMAIL_LIKE, MX, [
        ("dkim", "pass", {"header.i": "@example.net", "header.s": "20230601",
                          "header.b": "Ab/c+9"}),
        ("spf", "pass", {"smtp.mailfrom": "alice@example.net"}),
        ("dmarc", "pass", {"header.from": "example.net"})]),
    ("mx.example.org; ; dmarc=pass header.from=example.net;", MX,
     [("dmarc", "pass", {"header.from": "example.net"})]),
])
def test_parsing(value: str, authserv_id: str, results: list[tuple[str, str, dict[str, str]]]
                 ) -> None:
    parsed = parse_authentication_results(value)
    assert parsed is not None and parsed.authserv_id == authserv_id
    assert parsed.results == tuple(MethodResult(*result) for result in results)


@pytest.mark.parametrize("value", [
    MICROSOFT_LIKE, "", "   ", "; spf=pass", "(only a comment)", "mx.example.org=1",
])
def test_no_authserv_id_is_nothing_to_trust(value: str) -> None:
    assert parse_authentication_results(value) is None


@pytest.mark.parametrize(("headers", "from_domain", "authenticated", "why"), [
    # our server's verdicts
    ([GMAIL_LIKE], "example.net", True, "dmarc=pass"),
    ([RSPAMD_LIKE], "EXAMPLE.NET.", True, "dmarc=pass"),
    ([OPENDMARC_FAIL], "example.net", False, "dmarc=fail"),
    ([OPENDKIM_LIKE, OPENDMARC_FAIL], "example.net", False, "dmarc=fail"),
    # another server's verdict, a forged one, or none: nothing to trust
    ([GMAIL_LIKE.replace(MX, "mx.evil.example")], "example.net", False, "no Authentication"),
    ([MICROSOFT_LIKE], "example.net", False, "no Authentication"),
    ([], "example.net", False, "no Authentication"),
    (["MX.EXAMPLE.ORG; dmarc=pass header.from=example.net"], "example.net", True, "dmarc=pass"),
    (["mx.example.org.evil.example; dmarc=pass header.from=example.net"], "example.net", False,
     "no Authentication"),
    # a forged pass below our server's fail, in either order: the failure wins
    ([OPENDMARC_FAIL, "mx.example.org; dmarc=pass header.from=example.net"], "example.net",
     False, "dmarc=fail"),
    (["mx.example.org; dmarc=pass header.from=example.net", OPENDMARC_FAIL], "example.net",
     False, "dmarc=fail"),
    # a DMARC verdict for another domain says nothing about this From
    (["mx.example.org; dmarc=pass header.from=evil.example"], "example.net", False,
     "no dmarc result"),
    # no DMARC verdict: SPF or DKIM aligned with the From domain decides
    (["mx.example.org; dmarc=none header.from=example.net; spf=pass smtp.mailfrom=bounce.example.net"],
     "example.net", True, "spf=pass for bounce.example.net"),
    (["mx.example.org; spf=fail smtp.mailfrom=example.net; dkim=pass header.d=mail.example.net"],
     "example.net", True, "dkim=pass for mail.example.net"),
    (["mx.example.org; dkim=pass header.i=alice@news.example.net"], "example.net", True,
     "dkim=pass for news.example.net"),
    (["mx.example.org; spf=pass smtp.mailfrom=<alice@example.net>"], "example.net", True,
     "spf=pass for example.net"),
    (["mx.example.org; spf=pass smtp.mailfrom=evil.example; dkim=pass header.d=evil.example"],
     "example.net", False, "neither SPF nor DKIM passed for example.net"),
    (["mx.example.org; spf=pass smtp.mailfrom=net"], "example.net", False, "neither"),
    (["mx.example.org; spf=pass smtp.mailfrom=notexample.net"], "example.net", False, "neither"),
    (["mx.example.org; dmarc=temperror header.from=example.net; spf=softfail"
      " smtp.mailfrom=example.net"], "example.net", False, "dmarc=temperror"),
    (["mx.example.org; spf=pass smtp.helo=mail.example.net"], "example.net", False, "neither"),
    # international domain names compare in their ASCII form
    (["mx.example.org; dmarc=pass header.from=xn--bcher-kva.example"], "bücher.example", True,
     "dmarc=pass"),
    ([GMAIL_LIKE], None, False, "no From domain"),
])
def test_the_verdict(headers: list[str], from_domain: str | None, authenticated: bool,
                     why: str) -> None:
    verdict = sender_verdict(headers, from_domain, MX)
    assert verdict.authenticated is authenticated
    assert why in verdict.why


def test_the_job_id_form_of_our_authserv_id_is_ours() -> None:
    assert sender_verdict([OPENDKIM_LIKE], "example.net", MX).authenticated


def test_hostile_sizes_are_bounded() -> None:
    huge = "mx.example.org; " + "; ".join(["spf=fail smtp.mailfrom=x.example"] * 5000)
    assert not sender_verdict([huge] * 1000, "example.net", MX).authenticated
    assert parse_authentication_results("mx.example.org; " + "(" * 100_000) is not None
