"""The hidden state's seal: HMAC-SHA256 bound to one repository and issue (pure).

Anyone who may edit the bot's status comment (every writer of a repository) could
otherwise paste another request's block, approvals and all, or write one of their own.
So the bot signs each block it writes, and what a block says is believed only when its
MAC verifies for the issue it is on (``bot.core.status.find_status``).

The MAC is HMAC-SHA256 over a fixed label, the repository's full name in lower case
(GitHub's names are case-insensitive), the issue number and the block's base64 text,
exactly as written. It is written after that text in the same HTML comment, as
unpadded URL-safe base64.

Keys (``BOT_STATE_KEY``, read by the shell and handed in as ``StateKeys``):
comma-separated, the first signs and any verifies, so a key is rotated by putting the
new one first and dropping the old one once every open request has been written again.
Unset, the key is derived from ``GITHUB_WEBHOOK_SECRET``: the hex HMAC-SHA256 of the
label ``DERIVE_LABEL`` under that secret (``derived_key``), usable as is in
``BOT_STATE_KEY`` to move off it. With neither (a dry run without credentials), a fixed
development key that protects nothing is used, and the server says so when it starts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

DERIVE_LABEL = b"event-support-bot state key v1"
_MAC_LABEL = "event-support-bot:state v1"
_DEVELOPMENT_KEY = b"event-support-bot development state key: not a secret"
MAC_CHARS = 43  # 32 bytes as unpadded URL-safe base64


@dataclass(frozen=True)
class StateKeys:
    """HMAC keys for the hidden state: the first signs, any of them verifies."""

    keys: tuple[bytes, ...] = field(repr=False)  # never in a log line
    development: bool = False  # the fixed key: anyone can forge a block

    def __post_init__(self) -> None:
        if not self.keys or not all(self.keys):
            raise ValueError("a state key cannot be empty")

    def mac(self, repo: str, number: int, blob: str) -> str:
        return _mac(self.keys[0], repo, number, blob)

    def verifies(self, repo: str, number: int, blob: str, mac: str) -> bool:
        # Every key is tried (no early exit), each compared in constant time.
        found = [hmac.compare_digest(_mac(k, repo, number, blob), mac) for k in self.keys]
        return any(found)


DEVELOPMENT_KEYS = StateKeys((_DEVELOPMENT_KEY,), development=True)


def _mac(key: bytes, repo: str, number: int, blob: str) -> str:
    message = f"{_MAC_LABEL}\n{repo.lower()}#{number}\n{blob}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def derived_key(webhook_secret: str) -> str:
    """The state key a deployment without ``BOT_STATE_KEY`` uses (hex, so it can be listed)."""
    return hmac.new(webhook_secret.encode(), DERIVE_LABEL, hashlib.sha256).hexdigest()


def state_keys(setting: str | None, webhook_secret: str | None) -> StateKeys | None:
    """The keys from ``BOT_STATE_KEY`` (else derived from the webhook secret); None: neither."""
    listed = [k.strip() for k in (setting or "").split(",")]
    keys = tuple(k.encode() for k in listed if k)
    if keys:
        return StateKeys(keys)
    if webhook_secret:
        return StateKeys((derived_key(webhook_secret).encode(),))
    return None


def keys_from_env(env: Mapping[str, str]) -> StateKeys | None:
    """``BOT_STATE_KEY``, else derived from ``GITHUB_WEBHOOK_SECRET``; None: neither is set."""
    return state_keys(env.get("BOT_STATE_KEY"), env.get("GITHUB_WEBHOOK_SECRET"))
