"""Who may see what: the dashboard token, and the permissions granted to the App itself.

The dashboard and the calendar feed list upcoming events across every
installation, so they are off (``404``) until the operator sets
``DASHBOARD_TOKEN``, and answer ``401`` to anyone without it. Calendar
clients cannot send headers, so ``?token=`` is accepted as well as
``Authorization: Bearer``. The comparison is constant-time.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from aiohttp import web

from .config import Config, GitHubClientConfig
from .github import GitHubApp, GitHubClient, GitHubError, credentials_from_env
from .model import IssueSnapshot, Trust

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# What the App must be granted (app.yml says the same; a test keeps them in step).
REQUIRED_PERMISSIONS: Mapping[str, str] = {
    "issues": "write",  # labels, assignees, the status comment
    "contents": "read",  # .github/event-bot.yml and the issue form
    "metadata": "read",  # every App has it
    "actions": "write",  # dispatching the pre-warm workflow
    "members": "read",  # team-lead teams
}
# Installation events reach every App without a subscription, so only these are checked.
REQUIRED_EVENTS: tuple[str, ...] = ("issues", "issue_comment")
_LEVELS = {"none": 0, "read": 1, "write": 2, "admin": 3}

# Security headers for the HTML views: no scripts, no framing, and no Referer, so a
# token in the address never leaks to the GitHub pages the dashboard links to.
VIEW_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; "
                                "img-src data:; base-uri 'none'; form-action 'none'; "
                                "frame-ancestors 'none'"),
}


def presented_token(request: web.Request) -> str | None:
    """The token a request carries: ``Authorization: Bearer TOKEN``, else ``?token=TOKEN``."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    query = request.query.get("token")
    return query if query else None


def token_matches(presented: str | None, expected: str) -> bool:
    if presented is None:
        return False
    # compare_digest on bytes: constant-time whatever the characters are.
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def refusal(request: web.Request, expected: str | None) -> web.Response | None:
    """``404`` when the views are off, ``401`` without the right token, else None."""
    if not expected:
        return web.Response(status=404, text="Not found: set DASHBOARD_TOKEN to turn on the "
                                             "dashboard and the calendar feed.\n")
    if not token_matches(presented_token(request), expected):
        return web.Response(
            status=401, text="Unauthorized: send Authorization: Bearer TOKEN or ?token=TOKEN.\n",
            headers={"WWW-Authenticate": 'Bearer realm="event-support-bot"',
                     "Cache-Control": "no-store"})
    return None


def protected(expected: Callable[[web.Request], str | None]) -> Callable[[Handler], Handler]:
    """Wrap a view so it runs only for a request with the dashboard token."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            refused = refusal(request, expected(request))
            if refused is not None:
                return refused
            return await handler(request)

        guarded.__name__ = getattr(handler, "__name__", "view")
        guarded.__doc__ = handler.__doc__
        return guarded

    return wrap


# --- who may vouch for a request (confirmed requests) ----------------------

# GitHub answers these when the App may not ask: the person then simply is not trusted.
_NOT_ALLOWED_TO_ASK = frozenset({401, 403, 422})


async def vouches(client: GitHubClient, repo: str, login: str, config: Config) -> bool:
    """Whether ``login`` is a writer (write, maintain, admin) or a team lead here: GitHub's
    answer (the client caches it), never the issue's text. Unknown counts as no."""
    from .commands import is_writer  # commands imports the plan, which imports the model

    if not login or login.endswith("[bot]"):
        return False
    if any(login.lower() == lead.lower().lstrip("@") for lead in config.team_leads):
        return True
    org, _, team = config.team_lead_team.partition("/")
    try:
        if is_writer(await client.permission(repo, login)):
            return True
        return bool(org and team and await client.is_team_member(org, team, login))
    except GitHubError as e:
        if e.status not in _NOT_ALLOWED_TO_ASK and e.status < 500:
            raise
        logging.getLogger("bot.access").warning(
            "cannot ask whether %s may confirm on %s: %s", login, repo, e)
        return False


async def trust_for(client: object, issue: IssueSnapshot, config: Config,
                    edited: Trust | None = None) -> Trust:
    """The trust facts for planning ``issue``: is its author a writer or lead, and is the
    person whose edit is being synced (``edited.editor``, as the delivery names them)."""
    if not isinstance(client, GitHubClient) or not config.prewarm.enabled:
        # A dry run asks nobody and confirms nothing; without pre-warming nothing waits
        # for a confirmation, so GitHub is not asked (a request stays three calls).
        return Trust()
    repo = issue.repo.full_name
    author = await vouches(client, repo, issue.author, config)
    if edited is not None and edited.editor and await vouches(client, repo, edited.editor,
                                                              config):
        return replace(edited, author=author)
    return Trust(author=author)


# --- the App's own grants (check-config) -----------------------------------


def permission_problems(app_json: Any) -> list[str]:
    """What ``GET /app`` says the App lacks, one line per problem (empty when all is there)."""
    if not isinstance(app_json, dict):
        return ["GitHub App: GET /app did not answer with an App"]
    granted = app_json.get("permissions")
    granted = granted if isinstance(granted, dict) else {}
    problems = []
    for name, wanted in REQUIRED_PERMISSIONS.items():
        have = str(granted.get(name) or "none")
        if _LEVELS.get(have, 0) < _LEVELS[wanted]:
            problems.append(f"GitHub App: permission {name!r} is {have!r}, the bot needs "
                            f"{wanted!r} (see app.yml)")
    events = app_json.get("events")
    subscribed = {str(e) for e in events} if isinstance(events, list) else set()
    for event in REQUIRED_EVENTS:
        if event not in subscribed:
            problems.append(f"GitHub App: not subscribed to the {event!r} event (see app.yml)")
    return problems


async def app_get(app: GitHubApp, path: str) -> Any:
    """A GET as the App itself (JWT), e.g. ``/app`` or ``/repos/O/R/installation``.

    ``GitHubApp`` keeps its App-level channel to itself; this goes through it so
    the call gets the same retries, pacing and ETag cache as every other.
    """
    data, _ = await app._channel.request("GET", path)
    return data


async def check_app_grants(env: Mapping[str, str], config: GitHubClientConfig
                           ) -> list[str] | None:
    """Problems with what the App was granted (``GET /app``); None without App credentials.

    Used by ``check-config`` when the App's id and key are in the environment.
    """
    import aiohttp

    from .serve import api_url  # here: serve imports the app, which imports this module

    try:
        creds = credentials_from_env(env)
    except ValueError as e:
        return [f"GitHub App: {e}"]
    if creds is None:
        return None
    quick = replace(config, retries=min(config.retries, 1), backoff_max_seconds=2.0)
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(session, creds, api_url(env), quick)
        try:
            data = await app_get(app, "/app")
        except GitHubError as e:
            return [f"GitHub App: cannot read its settings with GET /app ({e})"]
    return permission_problems(data)
