"""Secrets at rest: a shop's app secret and session, a carrier's key. Each is sealed with AES-GCM
under the site's CREDENTIALS_KEY (a fresh nonce a value, the key's SHA-256 as the AES key); the
sealed text starts with ``v1:`` so a later scheme can be told apart. A value sealed under another
key does not open: :class:`SealedElsewhere` says so, and the connection has to be entered again."""
from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, has_app_context

from server.config import load_settings
from server.services.errors import DomainError

VERSION = "v1:"


class SealedElsewhere(DomainError):
    code = "credentials_unreadable"
    http_status = 409


def _key() -> bytes:
    if has_app_context() and current_app.config.get("WF", {}).get("CREDENTIALS_KEY"):
        secret = current_app.config["WF"]["CREDENTIALS_KEY"]
    else:
        secret = load_settings({"SECRET_KEY": "unused"})["CREDENTIALS_KEY"]
    return hashlib.sha256(str(secret).encode()).digest()


def seal(text: str) -> str:
    """``text`` sealed for the database ('' stays '')."""
    if not text:
        return ""
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, text.encode(), VERSION.encode())
    return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(value: str) -> str:
    if not value:
        return ""
    if not value.startswith(VERSION):
        raise SealedElsewhere(reason="not sealed by this server")
    raw = base64.urlsafe_b64decode(value[len(VERSION):].encode())
    try:
        return AESGCM(_key()).decrypt(raw[:12], raw[12:], VERSION.encode()).decode()
    except InvalidTag:
        raise SealedElsewhere(reason="sealed under another CREDENTIALS_KEY") from None
