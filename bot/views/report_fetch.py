"""Reading a repository's event requests from GitHub for the report."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..core.config import Config
from ..core.forms import FormTemplate
from ..core.model import RepoRef, comment_from_json, issue_from_json, parse_github_time
from ..core.plan import triage
from ..core.request import is_event_request
from ..core.sealing import DEVELOPMENT_KEYS, StateKeys
from ..core.status import StatusComment, find_status
from .report_records import RequestRecord, record_from
from .report_summary import Report, summarize

FETCH_CONCURRENCY = 8


class UsageError(ValueError):
    """A bad argument: exit status 2."""


async def fetch_records(client: Any, repo: str, config: Config, form: FormTemplate,
                        now: datetime, *, keys: StateKeys, bot_login: str | None = None,
                        with_status: bool = True) -> list[RequestRecord]:
    """Every event request in ``repo`` (open and closed), re-triaged.

    An issue is one when it carries the label or its body holds the form's headings (as
    ``bot.core.request.is_event_request`` says), so every issue is listed, not only labelled
    ones; comments are read only for requests. ``client`` is a
    ``bot.github.client.GitHubClient``. ``with_status=False`` skips the comments (one call per
    request): the type and the dates still come out right, but approvals, cancellations,
    reschedules and ticks are not seen.
    """
    owner, _, name = repo.partition("/")
    ref = RepoRef(owner, name)
    # No label filter: a request opened without the form's label is still one.
    issues = await client.get_all(f"/repos/{owner}/{name}/issues", {
        "state": "all", "per_page": 100, "sort": "created", "direction": "asc"})
    gate = asyncio.Semaphore(FETCH_CONCURRENCY)

    async def one(data: Any) -> RequestRecord | None:
        if not isinstance(data, dict) or "pull_request" in data:
            return None
        try:
            issue = issue_from_json(data, ref)
        except ValueError:
            return None
        if not is_event_request(issue, form, config):
            return None  # a plain issue: no call for its comments
        status: StatusComment | None = None
        if with_status:
            async with gate:
                raw = await client.issue_comments(repo, issue.number)
            comments = [c for c in (comment_from_json(x) for x in raw) if c is not None]
            status, _ = find_status(comments, bot_login, keys, repo, issue.number)
        result = triage(issue, status, config, form, now)
        return record_from(issue, status, result, config, now,
                           closed=parse_github_time(data.get("closed_at")))

    found = await asyncio.gather(*(one(x) for x in issues))
    return [r for r in found if r is not None]


async def build_report(repo: str, env: Mapping[str, str], config: Config, form: FormTemplate,
                       *, since: datetime | None = None, until: datetime | None = None,
                       now: datetime | None = None) -> Report:
    """Read ``repo``'s requests as the App (when its credentials are in ``env``) or with
    ``GITHUB_TOKEN``, and summarise them. ``LookupError`` when the App is not installed there.
    """
    import aiohttp

    from ..core.sealing import keys_from_env
    from ..github.client import GitHubApp, GitHubError, TokenClient, api_url, credentials_from_env
    from ..github.grants import app_get
    from ..service.repo_config import RepoConfigs

    now = now or datetime.now(UTC)
    owner, _, name = repo.partition("/")
    creds = credentials_from_env(env)
    token = env.get("GITHUB_TOKEN", "").strip()
    async with aiohttp.ClientSession() as session:
        client: Any
        bot_login: str | None = None
        if creds is not None:
            app = GitHubApp(session, creds, api_url(env), config.github)
            try:
                inst = await app_get(app, f"/repos/{owner}/{name}/installation")
            except GitHubError as e:
                if e.status == 404:
                    raise LookupError(f"the App is not installed on {repo}") from None
                raise
            inst_id = inst.get("id") if isinstance(inst, dict) else None
            if not isinstance(inst_id, int):
                raise LookupError(f"GitHub did not name the App's installation on {repo}")
            client = await app.installation(inst_id)
            bot_login = await app.bot_login()
        elif token:
            client = TokenClient(session, token, api_url(env), config.github)
        else:
            raise UsageError("report needs GitHub access: set GITHUB_APP_ID and "
                             "GITHUB_PRIVATE_KEY (the App), or GITHUB_TOKEN")
        loaded = await RepoConfigs(config, ttl_seconds=0).load(client, repo)
        warnings = []
        if loaded.broken:
            warnings.append(f"{repo}'s .github/event-bot.yml cannot be used, so the "
                            "deployment's config was: " + "; ".join(loaded.problem))
        keys = keys_from_env(env)
        if keys is None:
            warnings.append("neither BOT_STATE_KEY nor GITHUB_WEBHOOK_SECRET is set, so no "
                            "request's approval could be verified: all count as pending")
        records = await fetch_records(client, repo, loaded.config, form, now,
                                      keys=keys or DEVELOPMENT_KEYS, bot_login=bot_login)
    report = summarize(repo, records, loaded.config, since=since, until=until, generated=now)
    if warnings:
        from dataclasses import replace

        report = replace(report, warnings=tuple(warnings))
    return report
