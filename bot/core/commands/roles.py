"""Who is asking: the roles a command may require, and those read from the issue alone."""

from __future__ import annotations

import enum

from ..config import Config
from ..model import IssueSnapshot
from ..request import EventRequest

# --- roles ---------------------------------------------------------------------------------

class Role(enum.Enum):
    TEAM_LEAD = "team lead"
    WRITER = "writer"
    ASSIGNEE = "assigned engineer"
    AUTHOR = "author"
    COMMUNITY_REP = "community representative"
    ANYONE = "anyone"


# How the README and /help name each role, in this order.
ROLE_TITLES: dict[Role, str] = {
    Role.TEAM_LEAD: "team leads",
    Role.WRITER: "writers",
    Role.ASSIGNEE: "assigned engineers",
    Role.AUTHOR: "the issue's author",
    Role.COMMUNITY_REP: "the community representative",
    Role.ANYONE: "anyone",
}
LOOKED_UP = frozenset({Role.WRITER, Role.TEAM_LEAD})  # need GitHub's answer
WRITER_PERMISSIONS = frozenset({"write", "maintain", "admin"})


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower().lstrip("@") == b.lower().lstrip("@")


def known_roles(login: str, issue: IssueSnapshot, request: EventRequest | None,
                config: Config) -> frozenset[Role]:
    """The roles read from the config and the issue alone, without asking GitHub."""
    roles = {Role.ANYONE}
    if any(_same(login, lead) for lead in config.team_leads):
        roles.add(Role.TEAM_LEAD)
    if any(_same(login, a) for a in issue.assignees):
        roles.add(Role.ASSIGNEE)
    if _same(login, issue.author):
        roles.add(Role.AUTHOR)
    if request is not None and any(_same(login, r) for r in _reps(request)):
        roles.add(Role.COMMUNITY_REP)
    return frozenset(roles)


def is_writer(permission: str) -> bool:
    return permission.lower() in WRITER_PERMISSIONS


def _reps(request: EventRequest) -> tuple[str, ...]:
    """Every community representative the form names (the first alone, from older code)."""
    if request.community_reps:
        return request.community_reps
    return (request.community_rep,) if request.community_rep else ()
