"""Who the bot is to GitHub: the App's credentials and the auth each identity sends.

- ``AppCredentials`` and ``credentials_from_env``: the App id and its PEM key, read
  from the environment and checked once, at start-up.
- ``AppAuth``: the App's own calls, signed with the JWT gidgethub builds and caches.
- ``TokenAuth``: a plain token (``GITHUB_TOKEN``), for ``report`` without an App.
- ``InstallationAuth``: one installation's token, cached until shortly before it
  expires and fetched again, once, when GitHub answers ``401``.

Nothing here logs or raises a token, the JWT or the key.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from bot.github.ratelimit import Clock, Gate

# --- credentials -----------------------------------------------------------


@dataclass(frozen=True)
class AppCredentials:
    app_id: str
    private_key: str = field(repr=False)  # PEM text; never in a repr, a log or an error


def _normalise_pem(text: str) -> str:
    text = text.strip().strip("'\"").strip()
    # Platforms that cannot hold multi-line values get the key with "\n" escapes.
    text = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\r\n", "\n")
    return text + "\n"


def credentials_from_env(env: Mapping[str, str]) -> AppCredentials | None:
    """The App's credentials, or None when the id or the key is not set.

    Raises ``ValueError`` (one line, never the key) when a key is set but
    cannot be read or is not a PEM private key.
    """
    app_id = env.get("GITHUB_APP_ID", "").strip()
    key_text = env.get("GITHUB_PRIVATE_KEY", "")
    key_path = env.get("GITHUB_PRIVATE_KEY_PATH", "").strip()
    if not app_id or not (key_text.strip() or key_path):
        return None
    source = "GITHUB_PRIVATE_KEY"
    if not key_text.strip():
        source = "GITHUB_PRIVATE_KEY_PATH"
        try:
            key_text = Path(key_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise ValueError(f"{source}: cannot read {key_path} ({reason})") from None
    pem = _normalise_pem(key_text)
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError(f"{source}: not a usable PEM private key") from None
    if not isinstance(key, RSAPrivateKey):  # GitHub signs App JWTs with RS256 only
        raise ValueError(f"{source}: not an RSA private key")
    return AppCredentials(app_id=app_id, private_key=pem)


# --- what each identity sends ----------------------------------------------


class Auth(Protocol):
    refreshable: bool

    async def credentials(self) -> dict[str, str]:
        """Keyword arguments for gidgethub: ``{"oauth_token": ...}``, or ``{}`` for the JWT."""
        ...

    def invalidate(self, used: Mapping[str, str]) -> None: ...


class AppAuth:
    """The App's JWT, which gidgethub builds from its ``app_id``/``private_key`` and caches."""

    refreshable = False

    async def credentials(self) -> dict[str, str]:
        return {}

    def invalidate(self, used: Mapping[str, str]) -> None:
        pass


class TokenAuth:
    refreshable = False

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth(token=[redacted])"

    async def credentials(self) -> dict[str, str]:
        return {"oauth_token": self._token}

    def invalidate(self, used: Mapping[str, str]) -> None:
        pass


class TokenIssuer(Protocol):
    """What an installation's auth needs of the App (``GitHubApp``): its clock and tokens."""

    clock: Clock
    token_refresh_margin_seconds: float

    async def fetch_installation_token(self, installation_id: int) -> tuple[str, float]: ...


class GatedChannel(Protocol):
    """What an installation's auth needs of the channel that uses it: its rate-limit gate."""

    gate: Gate
    longest_wait: float


class InstallationAuth:
    """One installation's token: cached until shortly before it expires, fetched once at a time."""

    refreshable = True

    def __init__(self, app: TokenIssuer, installation_id: int) -> None:
        self._app = app
        self._id = installation_id
        self.channel: GatedChannel | None = None  # set once the channel that uses it exists
        self._token: str | None = None
        self._refresh_at = -math.inf
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"InstallationAuth(installation_id={self._id})"

    def _valid(self) -> bool:
        return self._token is not None and self._app.clock() < self._refresh_at

    async def credentials(self) -> dict[str, str]:
        if not self._valid():
            async with self._lock:  # many callers, one access_tokens request
                if not self._valid():
                    if self.channel is not None:  # no use for a token inside a window
                        await self.channel.gate.wait(self.channel.longest_wait)
                    self._token, lifetime = await self._app.fetch_installation_token(self._id)
                    # Refresh a minute early, or a quarter early for short-lived tokens.
                    margin = min(self._app.token_refresh_margin_seconds, lifetime / 4)
                    self._refresh_at = self._app.clock() + lifetime - margin
        assert self._token is not None
        return {"oauth_token": self._token}

    def invalidate(self, used: Mapping[str, str]) -> None:
        # Only the token that failed: another caller may already hold a fresh one.
        if used.get("oauth_token") == self._token:
            self._token = None
