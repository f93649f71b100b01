"""Who is trusted with a request: writers and team leads, as GitHub says (never the text).

The shell asks GitHub (cached by the client) whether an issue's author, or the person
whose edit is being synced, is a writer or a team lead; the pure plan gets the answer as
``Trust`` and decides confirmation from it.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ..core.commands import is_writer
from ..core.config import Config
from ..core.model import IssueSnapshot, Trust
from ..github.client import GitHubClient, GitHubError

# GitHub answers these when the App may not ask: the person then simply is not trusted.
_NOT_ALLOWED_TO_ASK = frozenset({401, 403, 422})


async def vouches(client: GitHubClient, repo: str, login: str, config: Config) -> bool:
    """Whether ``login`` is a writer (write, maintain, admin) or a team lead here: GitHub's
    answer (the client caches it), never the issue's text. Unknown counts as no."""
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


async def confirmed_users(client: object, words: tuple[str, ...]) -> frozenset[str]:
    """Which bare words of a representative field are people's GitHub logins (lowercased):
    GitHub's answer (cached by the client), so a name is never mentioned as if a handle."""
    if not words or not isinstance(client, GitHubClient):
        return frozenset()  # a dry run asks nobody: bare words stay names
    found = set()
    for word in words:
        try:
            if await client.is_user(word):
                found.add(word.lower())
        except GitHubError as e:
            if e.status not in _NOT_ALLOWED_TO_ASK and e.status < 500:
                raise
            logging.getLogger("bot.access").warning("cannot ask whether %s is a user: %s",
                                                    word, e)
    return frozenset(found)
