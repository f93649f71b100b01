"""The bot's GitHub client: the one door other packages import it through.

No planning logic lives here. ``GitHubClient`` (``bot.github.surface``) is what the
bot asks of GitHub (issues, comments, permissions, dispatches, files), built on a few
REST primitives; ``InstallationClient`` and ``TokenClient`` (``bot.github.clients``)
send them over a channel, ``DryRunClient`` only records writes, and ``GitHubApp``
(``bot.github.app``) makes one reused client per installation.

How each call is sent lives beside these: retries, rate limits and pacing in
``bot.github.channel`` (with ``ratelimit``, ``pacing`` and ``etag_cache``); credentials
and tokens in ``bot.github.auth``; ``GitHubError`` in ``bot.github.errors``.
"""

from __future__ import annotations

from bot.github.app import GitHubApp, api_url
from bot.github.auth import AppCredentials, credentials_from_env
from bot.github.channel import DEFAULT_API_URL, ClientOptions, GitHubStats
from bot.github.clients import DryRunClient, InstallationClient, RecordedWrite, TokenClient
from bot.github.errors import GitHubError, redact
from bot.github.ratelimit import is_rate_limited, rate_limit_window
from bot.github.surface import GitHubClient

__all__ = [
    "DEFAULT_API_URL",
    "AppCredentials",
    "ClientOptions",
    "DryRunClient",
    "GitHubApp",
    "GitHubClient",
    "GitHubError",
    "GitHubStats",
    "InstallationClient",
    "RecordedWrite",
    "TokenClient",
    "api_url",
    "credentials_from_env",
    "is_rate_limited",
    "rate_limit_window",
    "redact",
]
