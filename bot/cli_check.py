"""``python -m bot check-config``: one line per problem an operator would otherwise meet in
production, from the config file and its form to what the App can reach on GitHub."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import yaml

from .core import deploy_check, form_check
from .core.config import Config, ConfigError, Labels
from .core.forms import FormError, load_form
from .service.loading import config_path, load_all


def _raw_form_problems(path: str) -> list[str]:
    """When the config has other problems, still check the shipped form against the
    contract and against the tiers and event-request label the config names."""
    from .core.config import DEFAULT_FORM_PATH, EVENT_TYPES

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        form = load_form(DEFAULT_FORM_PATH)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, FormError):
        return []
    if not isinstance(raw, dict) or raw.get("form"):
        return []
    name = DEFAULT_FORM_PATH.name
    labels = raw.get("labels")
    label = labels.get("event_request") if isinstance(labels, dict) else None
    problems = [
        *form_check.contract_field_problems(form, name),
        *form_check.event_type_option_problems(form, EVENT_TYPES, name),
        *form_check.form_label_problems(
            form, label if isinstance(label, str) and label else Labels().event_request, name),
    ]
    if isinstance(raw.get("tiers"), dict):
        problems += form_check.tier_option_problems([str(t) for t in raw["tiers"]], form, name)
    return problems


def check_config(path_arg: str | None, repo_file: str | None,
                 env: Mapping[str, str] | None = None, today: date | None = None) -> int:
    """``check-config``: the config, its form and mapping, what a first deployment would
    otherwise find in production, and (with App credentials) what GitHub grants."""
    env = os.environ if env is None else env
    path = config_path(path_arg)
    try:
        config, form = load_all(path)
    except ConfigError as e:
        for line in [*e.problems, *_raw_form_problems(path)]:
            print(line)
        return 1
    problems = form_check.form_problems(form, config, config.form_path.name)
    for line in problems:
        print(line)
    if problems:
        return 1
    if repo_file is not None:
        return check_repo_file(repo_file, config)
    today = today or datetime.now(ZoneInfo(config.oncall.timezone)).date()
    problems = [
        *deploy_check.rotation_problems(config, today),
        *deploy_check.unpriced_tier_problems(form, config, _priced_tiers(path, config),
                                             config.form_path.name),
        *asyncio.run(prewarm_problems(config, env)),
    ]
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"{path}: ok ({len(config.tiers)} tiers, {len(config.oncall.engineers)} engineers, "
          f"{len(config.checklist)} checklist items)")
    return check_app_grants(config, env)


def _priced_tiers(path: str, config: Config) -> set[str]:
    """The tiers whose config sets a price (a default tier, from no ``tiers`` key, does)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return set(config.tiers)
    tiers = raw.get("tiers") if isinstance(raw, dict) else None
    if not isinstance(tiers, dict):
        return set(config.tiers)
    return {str(name) for name, t in tiers.items() if isinstance(t, dict)
            and (t.get("price_usd") is not None or t.get("price_per_hour_usd") is not None)}


async def prewarm_problems(config: Config, env: Mapping[str, str]) -> list[str]:
    """With App credentials: the App can reach ``prewarm.repository`` and its workflow is
    there (else pre-warming would first fail on an event's day)."""
    import aiohttp

    from .github.client import GitHubApp, GitHubError, api_url, credentials_from_env
    from .github.grants import app_get

    repo = config.prewarm.repository
    try:
        creds = credentials_from_env(env)
    except ValueError:
        return []  # said by check_app_grants
    if not repo or creds is None:
        return []
    owner, _, name = repo.partition("/")
    quick = replace(config.github, retries=min(config.github.retries, 1),
                    backoff_max_seconds=2.0)
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(session, creds, api_url(env), quick)
        try:
            inst = await app_get(app, f"/repos/{owner}/{name}/installation")
            inst_id = inst.get("id") if isinstance(inst, dict) else None
            if not isinstance(inst_id, int):
                raise GitHubError(404, "no installation id")
        except GitHubError as e:
            if e.status != 404:
                return [f"prewarm.repository: cannot ask GitHub about {repo} ({e})"]
            return [f"prewarm.repository: the App is not installed on {repo}, so it cannot "
                    "dispatch the pre-warm workflow there; install it on that repository"]
        client = await app.installation(inst_id)
        workflow = config.prewarm.workflow
        try:
            await client.get(f"/repos/{owner}/{name}/actions/workflows/"
                             f"{quote(workflow, safe='')}")
        except GitHubError as e:
            if e.status == 404:
                return [f"prewarm.workflow: {workflow!r} does not exist in {repo} "
                        "(.github/workflows/)"]
            return [f"prewarm.workflow: cannot read {workflow!r} in {repo} ({e}); the App "
                    "needs the Actions permission there"]
    return []


def check_repo_file(path: str, config: Config) -> int:
    """A repository's ``.github/event-bot.yml`` over the deployment's config: each key it may
    not set and each reason it would be refused, one line each."""
    from .service.repo_config import read_override

    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"{path}: cannot be read ({e})")
        return 1
    try:
        override = read_override(source, config)
    except ConfigError as e:
        for line in e.problems:
            print(f"{path}: refused: {line}")
        return 1
    for line in override.ignored:
        print(f"{path}: {line}")
    if override.ignored:
        return 1
    print(f"{path}: ok (a repository's override over the deployment's config)")
    return 0


def check_app_grants(config: Config, env: Mapping[str, str]) -> int:
    """With App credentials in the environment, also check what the App was granted."""
    from .github.grants import check_app_grants as grants

    problems = asyncio.run(grants(env, config.github))
    if problems is None:
        return 0
    for line in problems:
        print(line)
    if problems:
        return 1
    print("GitHub App: the permissions and events app.yml lists are granted")
    return 0
