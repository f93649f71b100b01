"""The bot's labels in each repository: created or brought up to date, with colours and words.

Run when the App is installed (or given more repositories) and at start-up.
A label that is already right costs nothing but the (ETag-cached) list; a
label whose colour or description differs gets one PATCH; a
missing one gets one POST. Labels the bot does not own are never touched.

Existing labels matter beyond looks: an issue form's ``labels:`` only applies
labels that exist in the repository, so ``event-request`` must be there
before the first champion opens the form.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.config import Config
from .client import GitHubApp, GitHubClient, GitHubError

log = logging.getLogger("bot.labels")

MAX_DESCRIPTION = 100  # GitHub refuses longer label descriptions

TYPE_COLOURS = {"exam": "d93f0b", "workshop": "0e8a16", "demo": "5319e7", "other": "c5def5"}
TIER_COLOUR = "0052cc"
FREE_TIER_COLOUR = "bfdadc"


@dataclass(frozen=True)
class LabelSpec:
    name: str
    color: str  # six hex digits, no '#'
    description: str


@dataclass(frozen=True)
class LabelSyncResult:
    repo: str
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    @property
    def writes(self) -> int:
        return len(self.created) + len(self.updated)


def _short(description: str) -> str:
    if len(description) <= MAX_DESCRIPTION:
        return description
    return description[:MAX_DESCRIPTION - 1].rstrip() + "…"


def label_specs(config: Config) -> tuple[LabelSpec, ...]:
    """Every label the bot may put on a request, as it should look."""
    labels = config.labels
    specs = [
        LabelSpec(labels.event_request, "1d76db",
                  "A request for support around an event (read by the event-support bot)"),
    ]
    for name, event_type in config.event_types.items():
        people = f"{event_type.engineers} engineer{'s' if event_type.engineers != 1 else ''}"
        specs.append(LabelSpec(labels.type_label(name), TYPE_COLOURS.get(name, "c5def5"),
                               f"Event type: {name} ({people} on call)"))
    specs.append(LabelSpec(labels.tier_pending, "fbca04",
                           "A paid support tier awaits a team lead's /approve-tier"))
    for name, tier in config.tiers.items():
        price = f"${tier.price_usd:,.0f}" if tier.price_usd else "free"
        specs.append(LabelSpec(labels.tier_label(name),
                               TIER_COLOUR if tier.price_usd else FREE_TIER_COLOUR,
                               f"Support tier: {name} ({price})"))
    specs += [
        LabelSpec(labels.needs_info, "e99695",
                  "The request form needs more details before the event can be scheduled"),
        LabelSpec(labels.short_notice, "ff7619",
                  f"Starts less than {config.notice_days} days after the request was opened"),
        LabelSpec(labels.cancelled, "bfbfbf", "The event was cancelled"),
        LabelSpec(labels.done, "c2e0c6", "The event is over; follow-up posted"),
    ]
    unique: dict[str, LabelSpec] = {}
    for spec in specs:  # two keys configured to one label: the first wins
        unique.setdefault(spec.name.lower(), LabelSpec(spec.name, spec.color.lower(),
                                                       _short(spec.description)))
    return tuple(unique.values())


def _label_url(repo: str, name: str | None = None) -> str:
    owner, _, repo_name = repo.partition("/")
    base = (f"/repos/{urllib.parse.quote(owner, safe='')}/"
            f"{urllib.parse.quote(repo_name, safe='')}/labels")
    return base if name is None else f"{base}/{urllib.parse.quote(name, safe='')}"


def _differs(have: dict[str, object], spec: LabelSpec) -> bool:
    # Names compare without case, as GitHub does: a label someone spelt "Needs-Info" is
    # the bot's label and keeps its spelling.
    return (str(have.get("color") or "").lower() != spec.color
            or (have.get("description") or "") != spec.description)


async def sync_labels(client: GitHubClient, repo: str, specs: Iterable[LabelSpec]
                      ) -> LabelSyncResult:
    """Create or update ``specs`` in ``repo``; no write for a label that is already right."""
    existing = await client.get_all(_label_url(repo))
    by_name = {str(item["name"]).lower(): item for item in existing
               if isinstance(item, dict) and isinstance(item.get("name"), str)}
    created: list[str] = []
    updated: list[str] = []
    failed: list[str] = []
    for spec in specs:
        have = by_name.get(spec.name.lower())
        try:
            if have is None:
                try:
                    await client.post(_label_url(repo), {"name": spec.name, "color": spec.color,
                                                         "description": spec.description})
                    created.append(spec.name)
                    continue
                except GitHubError as e:
                    if e.status != 422:  # 422: made meanwhile (an issue got it); update it
                        raise
                    have = {"name": "", "color": "", "description": None}
            if _differs(have, spec):
                current = str(have.get("name") or spec.name)
                await client.patch(_label_url(repo, current),
                                   {"color": spec.color, "description": spec.description})
                updated.append(spec.name)
        except GitHubError as e:
            log.warning("%s: label %r not synced (%s)", repo, spec.name, e)
            failed.append(spec.name)
    if created or updated:
        log.info("%s: labels created %s, updated %s", repo, created or "none",
                 updated or "none")
    return LabelSyncResult(repo, tuple(created), tuple(updated), tuple(failed))


# The config a repository's labels come from (its .github/event-bot.yml may rename them).
ConfigFor = Callable[[GitHubClient, str], Awaitable[Config]]


def repos_in_payload(payload: Mapping[str, Any]) -> list[str] | None:
    """The repositories an ``installation``/``installation_repositories`` delivery names."""
    for key in ("repositories_added", "repositories"):
        items = payload.get(key)
        if isinstance(items, list):
            return [str(r["full_name"]) for r in items
                    if isinstance(r, dict) and isinstance(r.get("full_name"), str)
                    and r["full_name"].count("/") == 1]
    return None


async def sync_installation_labels(client: GitHubClient, config_for: ConfigFor,
                                   repos: Iterable[str] | None = None) -> list[LabelSyncResult]:
    """Sync the labels of ``repos`` (default: every repository the installation can see)."""
    if repos is None:
        repos = [str(r["full_name"]) for r in await client.repositories()
                 if isinstance(r.get("full_name"), str) and "/" in r["full_name"]]
    results = []
    for repo in repos:
        try:
            config = await config_for(client, repo)
            results.append(await sync_labels(client, repo, label_specs(config)))
        except Exception as e:  # one repository must not stop the others
            log.warning("%s: labels not synced (%s)", repo, e)
            results.append(LabelSyncResult(repo, failed=("*",)))
    return results


async def sync_app_labels(github: GitHubApp, config_for: ConfigFor,
                          installation_id: int | None = None,
                          repos: Iterable[str] | None = None) -> list[LabelSyncResult]:
    """Sync one installation's labels, or (``installation_id`` None) every installation's."""
    if installation_id is not None:
        ids = [installation_id]
    else:
        ids = [i["id"] for i in await github.installations() if isinstance(i.get("id"), int)]
    results: list[LabelSyncResult] = []
    for inst_id in ids:
        try:
            client = await github.installation(inst_id)
            results += await sync_installation_labels(client, config_for, repos)
        except Exception as e:
            log.warning("installation %s: labels not synced (%s)", inst_id, e)
    return results
