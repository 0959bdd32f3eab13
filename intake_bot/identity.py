"""What makes two deliveries the same message: the key the register files it under."""

from __future__ import annotations

import hashlib


def dedup_key(raw: bytes, message_id: str | None) -> str:
    """One key per message however often it is delivered.

    The Message-ID with the hash of the body: a second delivery that only adds trace
    headers (Received, Delivered-To) is still the same message. Without a Message-ID, the
    hash of the whole message.
    """
    separator = raw.find(b"\r\n\r\n")
    separator = raw.find(b"\n\n") if separator == -1 else separator
    body = raw[separator:] if separator != -1 else raw
    if not message_id:
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    return f"{message_id}|" + hashlib.sha256(body).hexdigest()
