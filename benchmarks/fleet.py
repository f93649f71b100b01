"""The fleet the benchmark runs against: installations, repositories and event requests
seeded into the fake GitHub, and the webhook payloads GitHub would send about them.

Reconciliation measurements need requests the bot has already triaged ("unchanged open
requests"). Rather than let the bot triage thousands of them first (GitHub's write
guidance makes that take an hour), the steady state of each example request is found
here with the bot's own ``plan`` and ``apply_desired`` on an in-memory issue, then
copied into the fake; a sample is checked with ``plan`` against the fake's answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.config import Config
from bot.core.forms import FormTemplate
from bot.core.model import Desired, IssueSnapshot, RepoRef, comment_from_json, issue_from_json
from bot.core.plan import plan
from bot.core.sealing import DEVELOPMENT_KEYS, StateKeys, state_keys
from bot.core.status import find_status, read_status, seal_status
from bot.github.labels_sync import label_specs
from bot.service.apply import apply_desired
from tests.fakegithub import FakeGitHub
from tests.payloads import issues_payload

from .harness import REPO_ROOT

# The shipped examples of valid requests, one per event type.
TEMPLATES = ("workshop", "exam", "demo", "other-midterm")
CHAMPION = "champion"


def template_body(name: str) -> str:
    return (REPO_ROOT / "examples" / f"{name}.md").read_text(encoding="utf-8")


def is_nothing(desired: Desired) -> bool:
    return not (desired.labels_add or desired.labels_remove or desired.assignees_add
                or desired.assignees_remove or desired.status_body is not None
                or desired.replies or desired.dispatches or desired.close_reason)


@dataclass
class _LocalIssue:
    """An issue in memory that ``apply_desired`` writes to (the IssueClient protocol)."""

    labels: list[str]
    assignees: list[str]
    comment: str | None = None

    async def issue(self, repo: str, number: int) -> Any:
        return None

    async def issue_comments(self, repo: str, number: int) -> list[Any]:
        return []

    async def update_issue(self, repo: str, number: int, **fields: Any) -> Any:
        self.labels = list(fields.get("labels", self.labels))
        self.assignees = list(fields.get("assignees", self.assignees))
        return {}

    async def create_comment(self, repo: str, number: int, body: str) -> Any:
        self.comment = body
        return {}

    async def edit_comment(self, repo: str, comment_id: int, body: str) -> Any:
        self.comment = body
        return {}

    async def delete_comment(self, repo: str, comment_id: int) -> Any:
        return None

    async def dispatch_workflow(self, repo: str, workflow: str, ref: str,
                                inputs: Mapping[str, str]) -> None:
        return None


@dataclass(frozen=True)
class SteadyState:
    """How the bot leaves a request once triaged: its labels, assignees, status comment."""

    labels: tuple[str, ...]
    assignees: tuple[str, ...]
    comment: str


async def steady_state(body: str, title: str, created_at: datetime, config: Config,
                       form: FormTemplate, now: datetime) -> SteadyState:
    """Apply the bot's plan to an in-memory request until the plan asks for nothing."""
    local = _LocalIssue([config.labels.event_request], [])
    for _ in range(6):
        issue = IssueSnapshot(
            repo=RepoRef("example", "example", 1), number=1, title=title, body=body,
            author=CHAMPION, labels=tuple(local.labels), assignees=tuple(local.assignees),
            state="open", created_at=created_at)
        status = read_status(local.comment, 1) if local.comment is not None else None
        _, desired = plan(issue, status, config, form, now)
        if is_nothing(desired):
            assert local.comment is not None, "a request the bot leaves without a comment"
            return SteadyState(tuple(local.labels), tuple(local.assignees), local.comment)
        await apply_desired(local, issue, status, desired)
    raise RuntimeError(f"the plan for {title!r} does not settle")


def check_steady(fake: FakeGitHub, repo: str, number: int, config: Config,
                 form: FormTemplate, now: datetime) -> None:
    """Raise unless the bot would change nothing on the fake's issue."""
    owner, _, name = repo.partition("/")
    ref = RepoRef(owner, name, fake.repo(repo).installation_id)
    issue = issue_from_json(fake.issue(repo, number), ref)
    comments = [c for c in (comment_from_json(x) for x in fake.comments(repo, number)) if c]
    status, _ = find_status(comments, bot_login(fake), state_keys_of(fake), repo, number)
    _, desired = plan(issue, status, config, form, now)
    if status is None or not status.verified or not is_nothing(desired):
        raise RuntimeError(f"{repo}#{number} is not in the steady state the benchmark needs: "
                           f"the bot would apply {desired}")


def state_keys_of(fake: FakeGitHub) -> StateKeys:
    """The keys the bot under test signs with: derived from the fake's webhook secret."""
    return state_keys(None, fake.webhook_secret) or DEVELOPMENT_KEYS


def add_repo(fake: FakeGitHub, repo: str, installation_id: int, config: Config) -> None:
    """A repository the App is installed on, with the bot's labels as it leaves them."""
    fake.add_repo(repo, installation_id)
    for spec in label_specs(config):
        fake.add_label(repo, spec.name, spec.color, spec.description)


def bot_login(fake: FakeGitHub) -> str:
    return f"{fake.app_slug}[bot]"


@dataclass
class Seeded:
    """Requests seeded per repository."""

    numbers: dict[str, list[int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.numbers.values())


async def seed_steady(fake: FakeGitHub, repos: list[str], count: int, config: Config,
                      form: FormTemplate, now: datetime, created_at: datetime) -> Seeded:
    """COUNT triaged, unchanged open requests spread evenly over REPOS."""
    states = {name: await steady_state(template_body(name), f"Event request ({name})",
                                       created_at, config, form, now)
              for name in TEMPLATES}
    bodies = {name: template_body(name) for name in TEMPLATES}
    seeded = Seeded({repo: [] for repo in repos})
    for i in range(count):
        repo = repos[i % len(repos)]
        name = TEMPLATES[i % len(TEMPLATES)]
        state = states[name]
        number = fake.add_issue(repo, title=f"Event request ({name})", body=bodies[name],
                                user=CHAMPION, labels=state.labels, created_at=created_at,
                                assignees=state.assignees)
        signed = seal_status(state.comment, state_keys_of(fake), repo, number)
        fake.add_comment(repo, number, signed, bot_login(fake), "Bot", created_at=created_at)
        seeded.numbers[repo].append(number)
    for repo, numbers in seeded.numbers.items():
        for number in {numbers[0], numbers[-1]} if numbers else set():
            check_steady(fake, repo, number, config, form, now)
    return seeded


def payload_bytes(payload: dict[str, Any]) -> bytes:
    # GitHub sends compact JSON.
    return json.dumps(payload, separators=(",", ":")).encode()


def plain_issue_payloads(fake: FakeGitHub, repo: str, count: int) -> list[bytes]:
    """``issues.opened`` deliveries about ordinary issues (not event requests), ~10 KB each."""
    bodies: list[bytes] = []
    for i in range(count):
        number = fake.add_issue(
            repo, title=f"The hub is slow this morning ({i})", user=f"user-{i}",
            body=("Since about 9am notebooks take a minute to start and the file browser "
                  "times out. Steps to reproduce: log in, start the default image, open a "
                  "notebook. Expected: a kernel within ten seconds.\n") * 3)
        bodies.append(payload_bytes(issues_payload(fake, repo, number, "opened")))
    return bodies
