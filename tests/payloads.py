"""Webhook payloads that start from GitHub's real examples, and delivering them like GitHub.

The examples come from the npm package ``@octokit/webhooks-examples`` (fetched by
scripts/fetch-fixtures). ``issues_payload`` and ``issue_comment_payload`` take a real
example and put the fake GitHub's current issue, comment, repository, installation and
sender in it, so the bot sees what GitHub would send about the state the test set up.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.test_utils import TestClient

from tests.fakegithub import (
    FakeGitHub,
    JsonDict,
    ensure_fixtures,
    sign_body,
    webhook_headers,
)

# Keys of the examples that describe something other than the fake's state; they are
# dropped and set again only when the test says what they are.
_EXAMPLE_ONLY_KEYS = ("assignee", "milestone", "label", "changes", "enterprise", "organization")


@cache
def load_examples() -> Mapping[str, tuple[JsonDict, ...]]:
    """Every example payload by event name, loaded once."""
    with ensure_fixtures().webhooks.open("rb") as handle:
        index = json.load(handle)
    return {entry["name"]: tuple(entry["examples"]) for entry in index}


def webhook_payload(event: str, action: str | None = None, **overrides: Any) -> JsonDict:
    """A deep copy of GitHub's first example of EVENT with ACTION, top-level keys replaced."""
    examples = load_examples().get(event)
    if not examples:
        raise KeyError(f"no webhook examples for event {event!r}")
    for example in examples:
        if example.get("action") == action:
            payload = copy.deepcopy(example)
            break
    else:
        actions = sorted({str(example.get("action")) for example in examples})
        raise KeyError(f"no {event!r} example with action {action!r}; there are {actions}")
    payload.update(copy.deepcopy(overrides))
    return payload


def _example_for(event: str, action: str, fallback: str) -> JsonDict:
    # GitHub's examples lack some actions (issues "closed"): start from a sibling then.
    try:
        payload = webhook_payload(event, action)
    except KeyError:
        payload = webhook_payload(event, fallback)
        payload["action"] = action
    return payload


def _place(payload: JsonDict, fake: FakeGitHub, repo: str, sender: JsonDict) -> None:
    for key in _EXAMPLE_ONLY_KEYS:
        payload.pop(key, None)
    repository = fake.repo_json(repo)
    installation_id = fake.repo(repo).installation_id
    node_id = base64.b64encode(f"023:IntegrationInstallation{installation_id}".encode())
    payload["repository"] = repository
    payload["installation"] = {"id": installation_id, "node_id": node_id.decode()}
    owner = repository["owner"]
    if owner["type"] == "Organization":
        org_api = owner["url"].replace("/users/", "/orgs/")
        payload["organization"] = {
            "login": owner["login"], "id": owner["id"], "node_id": owner["node_id"],
            "url": org_api, "repos_url": f"{org_api}/repos", "events_url": f"{org_api}/events",
            "hooks_url": f"{org_api}/hooks", "issues_url": f"{org_api}/issues",
            "members_url": f"{org_api}/members{{/member}}",
            "public_members_url": f"{org_api}/public_members{{/member}}",
            "avatar_url": owner["avatar_url"], "description": None,
        }
    payload["sender"] = sender


def issues_payload(
    fake: FakeGitHub,
    repo: str,
    number: int,
    action: str,
    sender: str | None = None,
    changes: JsonDict | None = None,
    label: str | None = None,
) -> JsonDict:
    """An ``issues`` payload about the fake's issue as it is now.

    SENDER defaults to the issue's author; CHANGES (``{"body": {"from": "..."}}``) is
    what an ``edited`` delivery carries; LABEL is the label of a ``labeled`` delivery
    (default: the issue's last label).
    """
    payload = _example_for("issues", action, "opened")
    issue = fake.issue(repo, number)
    _place(payload, fake, repo, fake.user_json(sender or issue["user"]["login"]))
    payload["action"] = action
    payload["issue"] = issue
    if action == "edited" or changes is not None:
        payload["changes"] = changes or {}
    if action in ("labeled", "unlabeled"):
        name = label or (issue["labels"][-1]["name"] if issue["labels"] else None)
        if name is not None:
            payload["label"] = fake.label_json(repo, name)
    elif label is not None:
        payload["label"] = fake.label_json(repo, label)
    if action in ("assigned", "unassigned"):
        payload["assignee"] = issue["assignee"]
    return payload


def issue_comment_payload(
    fake: FakeGitHub,
    repo: str,
    number: int,
    comment_id: int,
    action: str = "created",
    changes: JsonDict | None = None,
) -> JsonDict:
    """An ``issue_comment`` payload about the fake's comment, sent by its author."""
    payload = _example_for("issue_comment", action, "created")
    comment = fake.comment(repo, comment_id)
    _place(payload, fake, repo, comment["user"])
    payload["action"] = action
    payload["issue"] = fake.issue(repo, number)
    payload["comment"] = comment
    if action == "edited" or changes is not None:
        payload["changes"] = changes or {}
    return payload


def sign(body: bytes, secret: str) -> str:
    """``sha256=HEX``, the ``X-Hub-Signature-256`` of BODY."""
    return sign_body(body, secret)


async def deliver(
    target: str | aiohttp.ClientSession | TestClient[Any, Any],
    event: str,
    payload: JsonDict | bytes,
    secret: str | None,
    delivery_id: str | None = None,
    *,
    path: str = "/webhook",
    headers: Mapping[str, str | None] | None = None,
) -> int:
    """POST a webhook as GitHub does; returns the answer's status.

    TARGET is a URL (``http://127.0.0.1:PORT`` gets PATH appended; each delivery uses a
    new connection, as GitHub's do) or a session/test client (PATH is posted to). A
    SECRET of None sends no signature. HEADERS override GitHub's (None removes one).
    """
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = webhook_headers(event, delivery_id or str(uuid.uuid4()), body, secret)
    for name, value in (headers or {}).items():
        for existing in [key for key in sent if key.lower() == name.lower()]:
            del sent[existing]
        if value is not None:
            sent[name] = value
    if isinstance(target, str):
        url = target if urlsplit(target).path not in ("", "/") else target.rstrip("/") + path
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session, session.post(
            url, data=body, headers=sent
        ) as response:
            await response.read()
            return response.status
    async with target.post(path, data=body, headers=sent) as response:
        await response.read()
        status: int = response.status
        return status
