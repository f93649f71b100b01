"""Values that travel between the shell and the pure core: the issue as read, and the plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class RepoRef:
    owner: str
    name: str
    installation_id: int = 0

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class Comment:
    id: int
    author: str
    author_is_bot: bool
    body: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class HubBooking:
    """Another open request on the same hub: when it runs and the nodes it pre-warms."""

    repo: str  # OWNER/NAME
    number: int
    start: datetime
    end: datetime
    prewarm_nodes: int


@dataclass(frozen=True)
class Trust:
    """What GitHub said about the people behind this version of the issue (the shell asks;
    never read from the issue's text): who is a writer or a team lead."""

    author: bool = False  # the issue's author is a writer or a team lead
    editor: str | None = None  # a writer or team lead whose edit is being synced
    # Fingerprints, not bodies, so waiting work stays small whatever the issue holds:
    edited_from: str | None = None  # ``confirm.covers`` of the request the body read before
    edited_to: str | None = None  # ``confirm.body_digest`` of the body that edit left
    # Bare words in the representative field GitHub confirmed are people's logins
    # (``GET /users/{login}``, lowercased): only these are mentioned besides ``@handles``.
    users: frozenset[str] = frozenset()


@dataclass(frozen=True)
class IssueSnapshot:
    """An issue as it is on GitHub now (read from a payload or the API)."""

    repo: RepoRef
    number: int
    title: str
    body: str
    author: str
    labels: tuple[str, ...]
    assignees: tuple[str, ...]
    state: str  # "open" or "closed"
    created_at: datetime
    html_url: str = ""
    state_reason: str | None = None
    updated_at: datetime | None = None
    # The other open requests the bot knows of, by hub host (the shell's index): context
    # for planning pre-warming, not part of the issue, so not compared.
    hub_bookings: Mapping[str, tuple[HubBooking, ...]] = field(
        default_factory=dict, compare=False, repr=False)
    trust: Trust = field(default_factory=Trust, compare=False, repr=False)

    @property
    def key(self) -> tuple[str, int]:
        return (self.repo.full_name.lower(), self.number)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_github_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # GitHub's times are UTC; one sent without an offset is read as UTC, never as naive
    # (a naive time cannot be compared with the aware ones everywhere else).
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def issue_from_json(data: Any, repo: RepoRef) -> IssueSnapshot:
    """Build a snapshot from GitHub's issue JSON, tolerating wrong types and missing keys."""
    if not isinstance(data, dict):
        raise ValueError("issue is not a JSON object")
    number = data.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise ValueError("issue has no valid number")
    user = data.get("user") if isinstance(data.get("user"), dict) else {}
    labels = []
    # A list only: a string here would otherwise be read one character at a time.
    raw_labels = data.get("labels")
    for label in raw_labels if isinstance(raw_labels, list) else []:
        if isinstance(label, dict) and isinstance(label.get("name"), str):
            labels.append(label["name"])
        elif isinstance(label, str):
            labels.append(label)
    raw_assignees = data.get("assignees")
    assignees = [
        a["login"] for a in (raw_assignees if isinstance(raw_assignees, list) else [])
        if isinstance(a, dict) and isinstance(a.get("login"), str)
    ]
    created = parse_github_time(data.get("created_at"))
    if created is None:
        raise ValueError("issue has no valid created_at")
    state = data.get("state") if data.get("state") in ("open", "closed") else "open"
    return IssueSnapshot(
        repo=repo,
        number=number,
        title=_str(data.get("title")),
        body=_str(data.get("body")),
        author=_str(user.get("login")) if isinstance(user, dict) else "",
        labels=tuple(labels),
        assignees=tuple(assignees),
        state=str(state),
        created_at=created,
        html_url=_str(data.get("html_url")),
        state_reason=data.get("state_reason") if isinstance(data.get("state_reason"), str)
        else None,
        updated_at=parse_github_time(data.get("updated_at")),
    )


def comment_from_json(data: Any) -> Comment | None:
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        return None
    user = data.get("user") if isinstance(data.get("user"), dict) else {}
    login = _str(user.get("login")) if isinstance(user, dict) else ""
    is_bot = (isinstance(user, dict) and user.get("type") == "Bot") or login.endswith("[bot]")
    return Comment(
        id=data["id"],
        author=login,
        author_is_bot=is_bot,
        body=_str(data.get("body")),
        created_at=parse_github_time(data.get("created_at")),
    )


@dataclass(frozen=True)
class WorkflowDispatch:
    """One run of the pre-warm workflow to start."""

    kind: str  # "prewarm" or "scale-down"
    repository: str  # OWNER/NAME
    workflow: str
    ref: str
    inputs: dict[str, str]
    comment: int | None = None  # the /prewarm comment that asked for it, if one did
    for_start: str | None = None  # the event start (ISO, UTC) the nodes are readied for
    hub: str | None = None  # the hub host it was derived for (a scale-down derives it again)


@dataclass(frozen=True)
class Desired:
    """What the issue should look like; ``apply`` makes the difference real."""

    labels_add: frozenset[str] = frozenset()
    labels_remove: frozenset[str] = frozenset()
    assignees_add: tuple[str, ...] = ()
    assignees_remove: tuple[str, ...] = ()
    # The same difference as the issue's whole lists (None: unchanged), written as they are.
    labels: tuple[str, ...] | None = None
    assignees: tuple[str, ...] | None = None
    status_body: str | None = None  # None: leave the status comment alone
    replies: tuple[str, ...] = ()
    dispatches: tuple[WorkflowDispatch, ...] = ()
    close_reason: str | None = None  # "completed" or "not_planned"
    reactions: tuple[tuple[int, str], ...] = ()  # (comment id, reaction): a command's "+1"
    notes: tuple[str, ...] = field(default=())  # for logs and dry-run output


def repo_from_payload(payload: dict[str, Any]) -> RepoRef | None:
    repo = payload.get("repository")
    inst = payload.get("installation")
    if not isinstance(repo, dict):
        return None
    full = repo.get("full_name")
    if not isinstance(full, str) or full.count("/") != 1:
        return None
    owner, name = full.split("/")
    inst_id = inst.get("id") if isinstance(inst, dict) else None
    return RepoRef(owner, name, inst_id if isinstance(inst_id, int) else 0)
