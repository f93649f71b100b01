"""Tests of the fake GitHub itself: it must be as strict as the description and as GitHub."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from gidgethub import apps, sansio
from gidgethub.aiohttp import GitHubAPI
from multidict import CIMultiDict

from tests import fakegithub
from tests.fakegithub import FakeGitHub, Faults, OpenApiSpec, generate_app_key
from tests.payloads import (
    deliver,
    issue_comment_payload,
    issues_payload,
    load_examples,
    sign,
    webhook_payload,
)

REPO = "org/events"
INSTALLATION = 7


@dataclass(frozen=True)
class Reply:
    status: int
    headers: CIMultiDict[str]
    body: Any


async def send(
    fake: FakeGitHub,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    prefixed: bool = True,
) -> Reply:
    """One request as a careful client sends it, with a token if given."""
    sent = {"User-Agent": "fake-github-tests", "Accept": "application/vnd.github+json"}
    if token is not None:
        sent["Authorization"] = f"token {token}"
    if body is not None:
        raw = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    sent.update(headers or {})
    url = (fake.api_url if prefixed else fake.base_url) + path
    async with aiohttp.ClientSession() as session, session.request(
        method, url, data=raw, headers=sent
    ) as response:
        text = await response.read()
        parsed = json.loads(text) if text and "json" in response.content_type else text
        return Reply(response.status, CIMultiDict(response.headers), parsed)


def assert_teardown_would_fail(fake: FakeGitHub) -> None:
    """The marker let the test through; without it the fixture would fail the test."""
    fake.allow_violations = fake.allow_window_violations = False
    assert fake.problems()
    fake.allow_violations = fake.allow_window_violations = True


@pytest.fixture
def token(fake_github: FakeGitHub) -> str:
    fake_github.validate_responses = True
    fake_github.add_repo(REPO, INSTALLATION)
    return fake_github.create_token(INSTALLATION)


# ---- fixtures from npm ----


def test_fetch_fixtures_is_idempotent(fixture_paths: fakegithub.FixturePaths) -> None:
    script = fakegithub.REPO_ROOT / "scripts" / "fetch-fixtures"
    result = subprocess.run(
        ["bash", str(script)], env={**os.environ, "FIXTURES_DIR": str(fixture_paths.root)},
        capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0 and "already present" in result.stdout


def test_missing_fixtures_without_npm_say_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIXTURES_DIR", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(fakegithub.FixturesUnavailable, match="npm is not installed"):
        fakegithub.ensure_fixtures()


# ---- the description decides what may be sent ----


@pytest.mark.allow_api_violations
@pytest.mark.parametrize(
    ("method", "path", "prefixed", "status", "reason"),
    [
        ("GET", "/repos/org/events/nonsense", True, 404, "no such path"),
        ("PUT", "/repos/org/events/issues/1", True, 404, "no PUT"),
        ("GET", "/repos/org/events/issues/1", False, 404, "outside the API prefix"),
        ("GET", "/repos/org/events/issues/one", True, 400, "issue_number"),
        ("GET", "/repos/org/events/issues?colour=red", True, 400, "'colour' is not described"),
        ("GET", "/repos/org/events/issues?state=shut", True, 400, "query parameter 'state'"),
        ("GET", "/repos/org/events/issues?per_page=ten", True, 400, "not an integer"),
        ("GET", "/repos/org/events/issues?since=2026-01-01", True, 400, "'since'"),
        ("GET", "/repos/org/events/issues?since=2026-01-01T00:00:00 00:00", True, 400,
         "'since'"),
        ("DELETE", "/repos/org/events", True, 501, "not implemented by the fake"),
        ("GET", "/repos/org/events/issues/1#v=1999", True, 400, "unsupported API version"),
    ],
)
async def test_requests_the_description_does_not_allow_are_violations(
    fake_github: FakeGitHub, token: str, method: str, path: str, prefixed: bool, status: int,
    reason: str,
) -> None:
    fake_github.add_issue(REPO)
    path, _, version = path.partition("#v=")
    headers = {"X-GitHub-Api-Version": version} if version else {}
    reply = await send(fake_github, method, path, token=token, prefixed=prefixed,
                       headers=headers)
    assert reply.status == status
    assert len(fake_github.violations) == 1
    assert reason in fake_github.violations[0].reason
    assert_teardown_would_fail(fake_github)


@pytest.mark.allow_api_violations
@pytest.mark.parametrize(
    ("method", "path", "raw", "content_type", "reason"),
    [
        ("PATCH", "/repos/org/events/issues/1", b'{"labels": "bug"}', "application/json",
         "at labels"),
        ("PATCH", "/repos/org/events/issues/1", b'{"state": "shut"}', "application/json",
         "at state"),
        ("POST", "/repos/org/events/issues/1/comments", b"{}", "application/json",
         "'body' is a required property"),
        ("POST", "/repos/org/events/issues/1/comments", b'{"body": 5}', "application/json",
         "at body"),
        ("POST", "/repos/org/events/issues/1/comments", b"", "", "body is required"),
        ("POST", "/repos/org/events/issues/1/comments", b"{body", "application/json",
         "not JSON"),
        ("POST", "/repos/org/events/issues/1/comments", b"body=hi",
         "application/x-www-form-urlencoded", "a body of type"),
        ("POST", "/repos/org/events/issues/comments/5/reactions", b'{"content": "party"}',
         "application/json", "at content"),
        ("POST", "/repos/org/events/actions/workflows/prewarm.yml/dispatches",
         b'{"inputs": {}}', "application/json", "'ref' is a required property"),
        ("DELETE", "/repos/org/events/issues/comments/5", b'{"why": 1}', "application/json",
         "takes none"),
    ],
)
async def test_bodies_the_schema_rejects_are_violations(
    fake_github: FakeGitHub, token: str, method: str, path: str, raw: bytes,
    content_type: str, reason: str,
) -> None:
    fake_github.add_issue(REPO)
    headers = {"Content-Type": content_type} if content_type else {}
    reply = await send(fake_github, method, path, token=token, raw=raw, headers=headers)
    assert reply.status == 400
    assert [reason in v.reason for v in fake_github.violations] == [True]
    assert_teardown_would_fail(fake_github)
    assert fake_github.issue(REPO, 1)["comments"] == 0


async def test_gidgethub_requests_pass_every_check(
    fake_github: FakeGitHub, token: str, app_key: str
) -> None:
    fake_github.set_file(REPO, ".github/event-bot.yml", "notice_days: 14\n")
    fake_github.set_permission(REPO, "lead", "maintain")
    fake_github.add_team_member("org", "leads", "lead")
    number = fake_github.add_issue(REPO, title="Midterm", body="### Hub URL\n\nhub.example")
    owner, name = REPO.split("/")
    async with aiohttp.ClientSession() as session:
        gh = GitHubAPI(session, "event-support-bot", base_url=fake_github.api_url, cache={})
        app_jwt = apps.get_jwt(app_id=str(fake_github.app_id), private_key=app_key)
        assert (await gh.getitem("/app", jwt=app_jwt))["slug"] == "event-support-bot"
        issued = await apps.get_installation_access_token(
            gh, installation_id=str(INSTALLATION), app_id=str(fake_github.app_id),
            private_key=app_key)
        oauth = issued["token"]
        url_vars = {"owner": owner, "repo": name, "number": str(number)}
        issue = await gh.getitem("/repos/{owner}/{repo}/issues/{number}", url_vars,
                                 oauth_token=oauth)
        await gh.patch(issue["url"], data={"labels": ["event-request", "type: exam"],
                                          "assignees": ["alice", "bob"]}, oauth_token=oauth)
        await gh.post(issue["comments_url"], data={"body": "<!-- status -->"},
                      oauth_token=oauth)
        comments = [c async for c in gh.getiter(issue["comments_url"], oauth_token=oauth)]
        await gh.patch(comments[0]["url"], data={"body": "<!-- status --> v2"},
                       oauth_token=oauth)
        await gh.post(f"{comments[0]['url']}/reactions", data={"content": "eyes"},
                      oauth_token=oauth)
        await gh.patch("/repos/{owner}/{repo}/labels/{name}",
                       {"owner": owner, "repo": name, "name": "type: exam"},
                       data={"color": "b60205"}, oauth_token=oauth)
        await gh.post("/repos/{owner}/{repo}/labels", url_vars,
                      data={"name": "tier: gold", "color": "ffd700"}, oauth_token=oauth)
        await gh.post("/repos/{owner}/{repo}/actions/workflows/{wf}/dispatches",
                      {**url_vars, "wf": "prewarm.yml"},
                      data={"ref": "main", "inputs": {"nodes": "4"}}, oauth_token=oauth)
        permission = await gh.getitem(
            "/repos/{owner}/{repo}/collaborators/{user}/permission",
            {**url_vars, "user": "lead"}, oauth_token=oauth)
        membership = await gh.getitem("/orgs/org/teams/leads/memberships/lead",
                                      oauth_token=oauth)
        content = await gh.getitem("/repos/{owner}/{repo}/contents/{+path}",
                                   {**url_vars, "path": ".github/event-bot.yml"},
                                   oauth_token=oauth)
        listed = [i async for i in gh.getiter(
            "/repos/{owner}/{repo}/issues{?state,labels,per_page}",
            {**url_vars, "state": "all", "labels": "event-request", "per_page": "100"},
            oauth_token=oauth)]
        await gh.getitem("/repos/{owner}/{repo}", url_vars, oauth_token=oauth)
        await gh.getitem("/installation/repositories", oauth_token=oauth)
        await gh.getitem("/app/installations", jwt=app_jwt)
        await gh.getitem("/repos/{owner}/{repo}/installation", url_vars, jwt=app_jwt)
        await gh.delete(comments[0]["url"], oauth_token=oauth)

    assert fake_github.violations == [] and fake_github.response_problems == []
    assert fake_github.labels(REPO, number) == ["event-request", "type: exam"]
    assert fake_github.assignees(REPO, number) == ["alice", "bob"]
    assert comments[0]["user"]["login"] == "event-support-bot[bot]"
    assert comments[0]["user"]["type"] == "Bot"
    assert fake_github.comments(REPO, number) == []
    assert permission["permission"] == "write" and permission["role_name"] == "maintain"
    assert membership["state"] == "active"
    assert content["encoding"] == "base64"
    assert [i["number"] for i in listed] == [number]
    assert [(d.repo, d.workflow_id, d.inputs) for d in fake_github.dispatches] == [
        (REPO, "prewarm.yml", {"nodes": "4"})]


# ---- auth ----


@pytest.mark.parametrize(
    ("claims", "signed_with_other_key", "ok"),
    [
        ({"iss": "4242"}, False, True),
        ({"iss": "9999"}, False, False),
        ({"iss": "4242"}, True, False),
        ({"iss": "4242", "exp_in": 3600}, False, False),
        ({"iss": "4242", "exp_in": -10}, False, False),
        ({"iss": "4242", "iat_in": 300}, False, False),
    ],
)
async def test_app_endpoints_need_a_valid_jwt(
    fake_github: FakeGitHub, app_key: str, claims: dict[str, Any],
    signed_with_other_key: bool, ok: bool,
) -> None:
    now = int(time.time())
    payload = {"iss": claims["iss"], "iat": now - 60 + claims.get("iat_in", 0),
               "exp": now + claims.get("exp_in", 540)}
    key = generate_app_key() if signed_with_other_key else app_key
    token = jwt.encode(payload, key, algorithm="RS256")
    reply = await send(fake_github, "GET", "/app", headers={"Authorization": f"Bearer {token}"})
    assert reply.status == (200 if ok else 401)


@pytest.mark.parametrize(
    ("path", "auth", "status"),
    [
        ("/app", "installation", 401),
        ("/app", None, 401),
        ("/repos/org/events/issues/1", "app", 401),
        ("/repos/org/events/issues/1", "other-installation", 404),
        ("/repos/org/events/issues/1", "personal", 200),
        ("/repos/org/events/issues/1", "unknown", 401),
        ("/repos/org/events/issues/1", None, 401),
    ],
)
async def test_each_endpoint_takes_its_own_kind_of_credential(
    fake_github: FakeGitHub, token: str, path: str, auth: str | None, status: int
) -> None:
    fake_github.add_issue(REPO)
    fake_github.add_repo("other/repo", 8)
    fake_github.personal_tokens.add("ghp_personal")
    credential = {
        "installation": f"token {token}",
        "other-installation": f"token {fake_github.create_token(8)}",
        "app": f"Bearer {fake_github.app_jwt()}",
        "personal": "token ghp_personal",
        "unknown": "token ghs_nope",
    }
    headers = {"Authorization": credential[auth]} if auth else {}
    reply = await send(fake_github, "GET", path, headers=headers)
    assert reply.status == status


async def test_an_expired_token_is_bad_credentials(fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, INSTALLATION)
    fake_github.add_issue(REPO)
    fake_github.token_lifetime_seconds = 0.3
    issued = await send(fake_github, "POST", f"/app/installations/{INSTALLATION}/access_tokens",
                        headers={"Authorization": f"Bearer {fake_github.app_jwt()}"})
    assert issued.status == 201 and set(issued.body) >= {"token", "expires_at"}
    fresh = await send(fake_github, "GET", f"/repos/{REPO}/issues/1", token=issued.body["token"])
    await asyncio.sleep(0.35)
    stale = await send(fake_github, "GET", f"/repos/{REPO}/issues/1", token=issued.body["token"])
    assert (fresh.status, stale.status) == (200, 401)
    assert stale.body["message"] == "Bad credentials"
    renewed = fake_github.create_token(INSTALLATION)
    fake_github.expire_tokens()
    assert (await send(fake_github, "GET", f"/repos/{REPO}", token=renewed)).status == 401


async def test_a_token_for_named_repositories_reaches_only_those(fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, INSTALLATION)
    fake_github.add_repo("org/other", INSTALLATION)
    issued = await send(fake_github, "POST", f"/app/installations/{INSTALLATION}/access_tokens",
                        body={"repositories": ["events"]},
                        headers={"Authorization": f"Bearer {fake_github.app_jwt()}"})
    token = issued.body["token"]
    assert (await send(fake_github, "GET", f"/repos/{REPO}", token=token)).status == 200
    assert (await send(fake_github, "GET", "/repos/org/other", token=token)).status == 404


# ---- ETags and rate limits ----


async def test_etag_gives_304_that_costs_nothing(fake_github: FakeGitHub, token: str) -> None:
    fake_github.add_issue(REPO, title="Exam")
    first = await send(fake_github, "GET", f"/repos/{REPO}/issues/1", token=token)
    etag = first.headers["ETag"]
    again = await send(fake_github, "GET", f"/repos/{REPO}/issues/1", token=token,
                       headers={"If-None-Match": etag})
    assert (first.status, again.status, again.body) == (200, 304, b"")
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]
    assert again.headers["ETag"] == etag
    await send(fake_github, "PATCH", f"/repos/{REPO}/issues/1", token=token,
               body={"title": "Final exam"})
    changed = await send(fake_github, "GET", f"/repos/{REPO}/issues/1", token=token,
                         headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert [r.counted_against_limit for r in fake_github.requests] == [True, False, True, True]
    assert [r.is_write for r in fake_github.requests] == [False, False, True, False]
    assert {r.installation_id for r in fake_github.requests} == {INSTALLATION}


async def test_primary_rate_limit_is_per_installation(fake_github: FakeGitHub,
                                                      token: str) -> None:
    fake_github.rate_limit = 2
    fake_github.add_repo("other/repo", 8)
    replies = [await send(fake_github, "GET", f"/repos/{REPO}", token=token) for _ in range(3)]
    assert [r.status for r in replies] == [200, 200, 403]
    assert [r.headers["x-ratelimit-remaining"] for r in replies] == ["1", "0", "0"]
    other = await send(fake_github, "GET", "/repos/other/repo",
                       token=fake_github.create_token(8))
    assert other.status == 200


# ---- faults ----


@pytest.mark.allow_api_violations
async def test_secondary_limit_opens_a_window_that_is_watched(fake_github: FakeGitHub,
                                                              token: str) -> None:
    fake_github.faults = Faults(secondary_limit_rate=1.0, retry_after_seconds=0.3,
                                fault_paths=("/issues",))
    fake_github.add_issue(REPO)
    limited = await send(fake_github, "GET", f"/repos/{REPO}/issues/1", token=token)
    assert limited.status == 403 and "secondary rate limit" in limited.body["message"]
    assert float(limited.headers["retry-after"]) == pytest.approx(0.3)
    fake_github.faults = Faults()
    early = await send(fake_github, "GET", f"/repos/{REPO}", token=token)
    assert early.status == 403 and "retry-after" in early.headers
    assert [(v.path, v.installation_id) for v in fake_github.window_violations] == [
        (f"/repos/{REPO}", INSTALLATION)]
    other = fake_github.create_token(INSTALLATION)  # same installation, new token: same window
    assert (await send(fake_github, "GET", f"/repos/{REPO}", token=other)).status == 403
    await asyncio.sleep(0.3)
    assert (await send(fake_github, "GET", f"/repos/{REPO}", token=token)).status == 200
    assert len(fake_github.window_violations) == 2
    assert_teardown_would_fail(fake_github)


async def test_whole_second_windows_send_whole_seconds(fake_github: FakeGitHub,
                                                        token: str) -> None:
    fake_github.faults = Faults(secondary_limit_rate=1.0, retry_after_seconds=60)
    reply = await send(fake_github, "GET", f"/repos/{REPO}", token=token)
    assert reply.headers["retry-after"] == "60"


@pytest.mark.parametrize(
    ("faults", "path", "status"),
    [
        (Faults(error_rate=1.0), f"/repos/{REPO}", 502),
        (Faults(timeout_rate=1.0, timeout_seconds=0.05), f"/repos/{REPO}", 502),
        (Faults(error_rate=1.0, fault_paths=("/issues",)), f"/repos/{REPO}", 200),
        (Faults(error_rate=1.0, fault_paths=("/repos/{owner}/{repo}",)), f"/repos/{REPO}", 502),
        (Faults(error_rate=1.0, fault_paths=("POST /repos",)), f"/repos/{REPO}", 200),
        (Faults(error_rate=1.0), f"/app/installations/{INSTALLATION}/access_tokens", 201),
    ],
)
async def test_faults_hit_only_their_paths(fake_github: FakeGitHub, token: str, faults: Faults,
                                           path: str, status: int) -> None:
    fake_github.faults = faults
    if path.endswith("access_tokens"):
        reply = await send(fake_github, "POST", path,
                           headers={"Authorization": f"Bearer {fake_github.app_jwt()}"})
    else:
        reply = await send(fake_github, "GET", path, token=token)
    assert reply.status == status


async def test_error_after_write_applies_the_write(fake_github: FakeGitHub, token: str) -> None:
    fake_github.faults = Faults(error_after_write_rate=1.0)
    fake_github.add_issue(REPO)
    reply = await send(fake_github, "POST", f"/repos/{REPO}/issues/1/comments", token=token,
                       body={"body": "hello"})
    assert reply.status == 502
    assert [c["body"] for c in fake_github.comments(REPO, 1)] == ["hello"]


async def test_faults_are_reproducible_with_a_seed(openapi_spec: OpenApiSpec,
                                                   app_key: str) -> None:
    outcomes = []
    for _ in range(2):
        async with FakeGitHub(spec=openapi_spec, app_private_key=app_key, seed=3) as fake:
            fake.add_repo(REPO, INSTALLATION)
            token = fake.create_token(INSTALLATION)
            fake.faults = Faults(error_rate=0.5)
            outcomes.append([(await send(fake, "GET", f"/repos/{REPO}", token=token)).status
                             for _ in range(12)])
    assert outcomes[0] == outcomes[1] and {200, 502} == set(outcomes[0])


async def test_latency_is_added_to_every_answer(fake_github: FakeGitHub, token: str) -> None:
    fake_github.faults = Faults(latency_seconds=0.1)
    started = time.monotonic()
    await send(fake_github, "GET", f"/repos/{REPO}", token=token)
    assert time.monotonic() - started >= 0.1


# ---- state and pagination ----


@pytest.mark.parametrize(
    ("query", "pages", "rels"),
    [
        ("per_page=30", [30, 30, 15], [{"next", "last"}, {"prev", "next", "last", "first"},
                                       {"prev", "first"}]),
        ("per_page=100", [75], [set()]),
        ("", [30, 30, 15], [{"next", "last"}, {"prev", "next", "last", "first"},
                            {"prev", "first"}]),
        ("per_page=500", [75], [set()]),
    ],
)
async def test_lists_are_paginated_with_link_headers(
    fake_github: FakeGitHub, token: str, query: str, pages: list[int], rels: list[set[str]]
) -> None:
    for index in range(75):
        fake_github.add_issue(REPO, title=f"issue {index}", created_at=1_700_000_000 + index)
    url: str | None = f"{fake_github.api_url}/repos/{REPO}/issues?{query}"
    sizes, seen_rels, numbers = [], [], []
    async with aiohttp.ClientSession() as session:
        while url:
            async with session.get(url, headers={"Authorization": f"token {token}",
                                                 "User-Agent": "t"}) as response:
                items = await response.json()
                link = response.headers.get("Link", "")
            sizes.append(len(items))
            numbers += [item["number"] for item in items]
            parts = dict(
                (rel.split('"')[1], target.strip()[1:-1])
                for target, rel in (piece.split(";") for piece in link.split(",") if piece))
            seen_rels.append(set(parts))
            url = parts.get("next")
    assert sizes == pages and seen_rels == rels
    assert numbers == list(range(75, 0, -1))  # newest first, each once


async def test_gidgethub_getiter_follows_pages(fake_github: FakeGitHub, token: str) -> None:
    number = fake_github.add_issue(REPO)
    for index in range(130):
        fake_github.add_comment(REPO, number, f"comment {index}", "someone")
    async with aiohttp.ClientSession() as session:
        gh = GitHubAPI(session, "t", base_url=fake_github.api_url)
        bodies = [c["body"] async for c in gh.getiter(
            f"/repos/{REPO}/issues/{number}/comments?per_page=100", oauth_token=token)]
    assert bodies == [f"comment {index}" for index in range(130)]
    assert len(fake_github.calls("GET", "/comments")) == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=open", [3, 1]),
        ("state=closed", [2]),
        ("state=all&direction=asc", [1, 2, 3]),
        ("labels=event-request", [3, 1]),
        ("labels=event-request,tier:%20gold", [1]),
        ("state=all&since=2026-03-01T00:00:00Z", [3]),
        ("assignee=alice", [1]),
        ("creator=champion", [3, 1]),
    ],
)
async def test_issue_list_filters(fake_github: FakeGitHub, token: str, query: str,
                                  expected: list[int]) -> None:
    fake_github.add_issue(REPO, labels=["event-request", "tier: gold"], assignees=["alice"],
                          created_at="2026-01-01T00:00:00Z")
    fake_github.add_issue(REPO, state="closed", user="other", created_at="2026-02-01T00:00:00Z")
    fake_github.add_issue(REPO, labels=["Event-Request"], created_at="2026-04-01T00:00:00Z")
    reply = await send(fake_github, "GET", f"/repos/{REPO}/issues?{query}", token=token)
    assert [issue["number"] for issue in reply.body] == expected


async def test_issue_updates_behave_like_github(fake_github: FakeGitHub, token: str) -> None:
    fake_github.add_label(REPO, "Event-Request", color="0e8a16")
    number = fake_github.add_issue(REPO, labels=["bug"], assignees=["carol"])
    reply = await send(fake_github, "PATCH", f"/repos/{REPO}/issues/{number}", token=token,
                       body={"labels": ["event-request", {"name": "type: exam"}],
                             "assignees": ["alice"], "state": "closed",
                             "state_reason": "not_planned"})
    issue = reply.body
    assert [label["name"] for label in issue["labels"]] == ["Event-Request", "type: exam"]
    assert issue["assignees"][0]["login"] == "alice" and issue["assignee"]["login"] == "alice"
    assert (issue["state"], issue["state_reason"]) == ("closed", "not_planned")
    assert issue["closed_at"] is not None
    assert "type: exam" in {label["name"] for label in fake_github.repo_labels(REPO)}
    reopened = await send(fake_github, "PATCH", f"/repos/{REPO}/issues/{number}", token=token,
                          body={"state": "open"})
    assert (reopened.body["state_reason"], reopened.body["closed_at"]) == ("reopened", None)
    too_long = await send(fake_github, "PATCH", f"/repos/{REPO}/issues/{number}", token=token,
                          body={"body": "x" * 65537})
    assert too_long.status == 422


async def test_seeded_comments_keep_their_author(fake_github: FakeGitHub, token: str) -> None:
    number = fake_github.add_issue(REPO)
    fake_github.add_comment(REPO, number, "/approve-tier", "lead")
    fake_github.add_comment(REPO, number, "beep", "dependabot[bot]", user_type="Bot")
    fake_github.add_comment(REPO, number, "<!-- marker -->", "event-support-bot[bot]", "Bot")
    reply = await send(fake_github, "GET", f"/repos/{REPO}/issues/{number}/comments",
                       token=token)
    assert [(c["user"]["login"], c["user"]["type"]) for c in reply.body] == [
        ("lead", "User"), ("dependabot[bot]", "Bot"), ("event-support-bot[bot]", "Bot")]
    assert fake_github.issue(REPO, number)["comments"] == 3


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/repos/org/events/contents/config/bot.yml", 200),
        ("/repos/org/events/contents/missing.yml", 404),
        ("/repos/org/events/collaborators/nobody/permission", 200),
        ("/orgs/org/teams/leads/memberships/lead", 200),
        ("/orgs/org/teams/leads/memberships/stranger", 404),
        ("/orgs/elsewhere/teams/leads/memberships/lead", 404),
        ("/repos/org/events/labels/no-such-label", 404),
        ("/repos/org/events/issues/99", 404),
    ],
)
async def test_lookups_answer_like_github(fake_github: FakeGitHub, token: str, path: str,
                                          status: int) -> None:
    fake_github.set_file(REPO, "config/bot.yml", "tiers: {}\n")
    fake_github.add_team_member("org", "leads", "lead")
    reply = await send(fake_github, "GET", path, token=token)
    assert reply.status == status
    if "contents/config" in path:
        import base64

        assert base64.b64decode(reply.body["content"]).decode() == "tiers: {}\n"
    if "nobody" in path:
        assert reply.body["permission"] == "none"


async def test_dispatch_to_an_unknown_workflow_is_404(fake_github: FakeGitHub,
                                                      token: str) -> None:
    fake_github.set_workflows(REPO, {"prewarm.yml"})
    path = f"/repos/{REPO}/actions/workflows/%s/dispatches"
    known = await send(fake_github, "POST", path % "prewarm.yml", token=token,
                       body={"ref": "main", "inputs": {"nodes": "2"}})
    unknown = await send(fake_github, "POST", path % "other.yml", token=token,
                         body={"ref": "main"})
    assert (known.status, unknown.status) == (204, 404)
    assert len(fake_github.dispatches) == 1


async def test_labels_can_be_created_and_renamed(fake_github: FakeGitHub, token: str) -> None:
    number = fake_github.add_issue(REPO, labels=["tier: pending"])
    created = await send(fake_github, "POST", f"/repos/{REPO}/labels", token=token,
                         body={"name": "short-notice", "color": "d93f0b"})
    again = await send(fake_github, "POST", f"/repos/{REPO}/labels", token=token,
                       body={"name": "Short-Notice"})
    renamed = await send(fake_github, "PATCH", f"/repos/{REPO}/labels/tier%3A%20pending",
                         token=token, body={"new_name": "tier: awaiting"})
    assert (created.status, again.status, renamed.status) == (201, 422, 200)
    assert fake_github.labels(REPO, number) == ["tier: awaiting"]


# ---- deliveries ----


async def test_redelivery_posts_the_stored_payload_signed(fake_github: FakeGitHub,
                                                          app_key: str) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake_github.webhook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"
    try:
        for index in range(3):
            fake_github.add_delivery(f"guid-{index}", "issues", "opened",
                                     {"action": "opened", "n": index}, status_code=503)
        app_headers = {"Authorization": f"Bearer {fake_github.app_jwt()}"}
        first = await send(fake_github, "GET", "/app/hook/deliveries?per_page=2",
                           headers=app_headers)
        assert [d["guid"] for d in first.body] == ["guid-2", "guid-1"]
        next_url = first.headers["Link"].split(";")[0].strip("<>")
        rest = await send(fake_github, "GET", next_url.removeprefix(fake_github.api_url),
                          headers=app_headers)
        assert [d["guid"] for d in rest.body] == ["guid-0"]
        failed = await send(fake_github, "GET", "/app/hook/deliveries?status=failure",
                            headers=app_headers)
        assert len(failed.body) == 3
        attempt = await send(fake_github, "POST",
                             f"/app/hook/deliveries/{rest.body[0]['id']}/attempts",
                             headers=app_headers)
        assert attempt.status == 202
        await fake_github.drain()
    finally:
        await runner.cleanup()
    headers, body = received[0]
    assert json.loads(body) == {"action": "opened", "n": 0}
    assert headers["X-GitHub-Delivery"] == "guid-0"
    sansio.validate_event(body, signature=headers["X-Hub-Signature-256"], secret="test-secret")
    assert [(r.guid, r.status) for r in fake_github.redeliveries] == [("guid-0", 202)]
    assert fake_github.deliveries[-1].redelivery


# ---- the request log ----


async def test_request_log_and_its_helpers(fake_github: FakeGitHub, token: str) -> None:
    number = fake_github.add_issue(REPO)
    await send(fake_github, "GET", f"/repos/{REPO}/issues/{number}", token=token)
    await send(fake_github, "POST", f"/repos/{REPO}/issues/{number}/comments", token=token,
               body={"body": "hi"})
    assert [r.method for r in fake_github.calls()] == ["GET", "POST"]
    assert [r.status for r in fake_github.calls("post", "/comments")] == [201]
    assert fake_github.calls(operation_id="issues/get")[0].path == f"/repos/{REPO}/issues/1"
    fake_github.reset_log()
    assert fake_github.requests == []


# ---- payloads ----


@pytest.mark.parametrize(
    ("event", "action"),
    [
        ("issues", "opened"), ("issues", "edited"), ("issues", "labeled"),
        ("issues", "reopened"), ("issue_comment", "created"), ("issue_comment", "edited"),
        ("installation", "created"), ("installation", "deleted"),
        ("installation_repositories", "added"), ("installation_repositories", "removed"),
        ("ping", None),
    ],
)
def test_every_needed_example_exists(event: str, action: str | None) -> None:
    payload = webhook_payload(event, action, extra=1)
    assert payload.get("action") == action and payload["extra"] == 1
    payload["mutated"] = True
    assert "mutated" not in webhook_payload(event, action)


def test_a_missing_example_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="there are"):
        webhook_payload("issues", "exploded")
    assert "issues" in load_examples()


async def test_payloads_carry_the_fakes_state(fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, INSTALLATION)
    number = fake_github.add_issue(REPO, title="Workshop", labels=["event-request"],
                                   user="champ")
    comment_id = fake_github.add_comment(REPO, number, "/help", "champ")
    opened = issues_payload(fake_github, REPO, number, "opened")
    labeled = issues_payload(fake_github, REPO, number, "labeled", sender="lead")
    closed = issues_payload(fake_github, REPO, number, "closed")
    edited = issues_payload(fake_github, REPO, number, "edited",
                            changes={"body": {"from": "old"}})
    commented = issue_comment_payload(fake_github, REPO, number, comment_id)
    assert opened["issue"] == fake_github.issue(REPO, number)
    assert opened["repository"]["full_name"] == REPO
    assert opened["installation"]["id"] == INSTALLATION
    assert opened["sender"]["login"] == "champ" and "label" not in opened
    assert labeled["label"]["name"] == "event-request" and labeled["sender"]["login"] == "lead"
    assert closed["action"] == "closed" and "changes" not in closed
    assert edited["changes"] == {"body": {"from": "old"}}
    assert commented["comment"]["body"] == "/help"
    assert commented["sender"]["login"] == "champ"
    assert commented["issue"]["number"] == number


async def test_deliver_posts_like_github() -> None:
    seen: list[tuple[dict[str, str], bytes]] = []

    async def webhook(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.read()))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        payload = webhook_payload("ping")
        assert await deliver(base, "ping", payload, "test-secret", "d-1") == 202
        async with aiohttp.ClientSession(base_url=base) as session:
            assert await deliver(session, "ping", b"not json", None,
                                 headers={"X-GitHub-Event": None}) == 202
    finally:
        await runner.cleanup()
    headers, body = seen[0]
    assert headers["X-GitHub-Event"] == "ping" and headers["X-GitHub-Delivery"] == "d-1"
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Hub-Signature-256"] == sign(body, "test-secret")
    sansio.validate_event(body, signature=headers["X-Hub-Signature-256"], secret="test-secret")
    unsigned_headers, unsigned_body = seen[1]
    assert unsigned_body == b"not json"
    assert "X-Hub-Signature-256" not in unsigned_headers
    assert "X-GitHub-Event" not in unsigned_headers


# ---- the fake's own answers match the description ----


@pytest.mark.parametrize(
    "component",
    ["issue", "issue-comment", "label", "simple-user", "full-repository", "installation",
     "integration", "hook-delivery-item", "hook-delivery", "reaction"],
)
async def test_seeded_objects_match_githubs_schemas(
    fake_github: FakeGitHub, openapi_spec: OpenApiSpec, token: str, component: str
) -> None:
    number = fake_github.add_issue(REPO, labels=["event-request"], assignees=["alice"])
    comment_id = fake_github.add_comment(REPO, number, "hi", "alice")
    await send(fake_github, "POST", f"/repos/{REPO}/issues/comments/{comment_id}/reactions",
               token=token, body={"content": "+1"})
    delivery = fake_github.add_delivery("g", "issues", "opened",
                                        issues_payload(fake_github, REPO, number, "opened"))
    app_headers = {"Authorization": f"Bearer {fake_github.app_jwt()}"}
    objects = {
        "issue": fake_github.issue(REPO, number),
        "issue-comment": fake_github.comment(REPO, comment_id),
        "label": fake_github.label_json(REPO, "event-request"),
        "simple-user": fake_github.user_json("alice"),
        "full-repository": fake_github.repo_json(REPO),
        "installation": fake_github.installation_json(INSTALLATION),
        "integration": (await send(fake_github, "GET", "/app", headers=app_headers)).body,
        "hook-delivery-item": (await send(fake_github, "GET", "/app/hook/deliveries",
                                          headers=app_headers)).body[0],
        "hook-delivery": (await send(fake_github, "GET", f"/app/hook/deliveries/{delivery}",
                                     headers=app_headers)).body,
        "reaction": (await send(fake_github, "POST",
                                f"/repos/{REPO}/issues/comments/{comment_id}/reactions",
                                token=token, body={"content": "+1"})).body,
    }
    errors = [e.message for e in openapi_spec.schema_validator(component).iter_errors(
        objects[component])]
    assert errors == []
    assert fake_github.response_problems == []
