"""What every phase shares: the options, the fleet in the fake GitHub, the bot under test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.core.config import Config
from bot.core.forms import FormTemplate
from tests.fakegithub import FakeGitHub, OpenApiSpec
from tests.payloads import deliver, issues_payload

from .fleet import (
    CHAMPION,
    TEMPLATES,
    add_repo,
    payload_bytes,
    plain_issue_payloads,
    seed_steady,
    template_body,
)
from .harness import BotProcess
from .measure import bot_env, log
from .report import Goal

RESULTS_DIR = Path(__file__).resolve().parent / "results"

REQUESTS_REPO = "hub-org/requests"  # the unchanged open requests start-up reconciles
ACK_REPO = "helpdesk-org/helpdesk"  # ordinary issues: deliveries that cost no GitHub call
SOLO_REPO = "solo-org/events"  # requests arriving one at a time
CALLS_REPO = "calls-org/events"  # calls per request and per command
TEAM_LEAD = "lead-lee"  # in the shipped config.yaml's team_leads
# The work queue's phases (benchmarks/queue.py) each start their own fake and bot.
PHASES = ("startup", "ack", "triage", "calls", "memory", "hostile", "fleet", "lone", "fifo",
          "steady", "scaleout", "waiting")


@dataclass(frozen=True)
class Options:
    latency: float
    ack_rate: float
    ack_seconds: float
    ack_count: int
    concurrency: int
    single: int
    burst: int
    burst_installations: int
    reconcile: int
    tracked: int
    phases: frozenset[str]
    profile: bool
    config: Path




class Run:
    """One bot against one fake fleet; the phases (phases.py, triage.py) act on it in turn."""

    def __init__(self, opts: Options, config: Config, form: FormTemplate, spec: OpenApiSpec,
                 out: dict[str, Any], goals: list[Goal]) -> None:
        self.opts = opts
        self.config = config
        self.form = form
        self.out = out
        self.goals = goals
        self.fake = FakeGitHub(spec=spec)
        self.secret = self.fake.webhook_secret
        self.now = datetime.now(UTC)
        self.ack_bodies: list[bytes] = []
        self.burst_repos = [f"fleet-{k}-org/events" for k in range(opts.burst_installations)]
        self.processed = 0  # deliveries the bot has finished, as we count them
        self.quiet = max(0.5, 6 * opts.latency)  # no call for this long: the bot is idle
        profile = RESULTS_DIR / "profile-main.txt" if opts.profile else None
        self.bot = BotProcess(RESULTS_DIR / "bot-main.log", opts.config, profile_path=profile)
        self.session = aiohttp.ClientSession()  # made inside the running loop

    async def open(self) -> None:
        """Start the fake and seed the fleet; the bot starts in the start-up phase."""
        await self.fake.start()
        fake = self.fake
        fake.faults.latency_seconds = self.opts.latency
        add_repo(fake, REQUESTS_REPO, 1, self.config)
        await seed_steady(fake, [REQUESTS_REPO], self.opts.reconcile, self.config, self.form,
                          self.now, self.now - timedelta(days=1))
        add_repo(fake, ACK_REPO, 2, self.config)
        self.ack_bodies = plain_issue_payloads(fake, ACK_REPO, 20)
        add_repo(fake, SOLO_REPO, 3, self.config)
        add_repo(fake, CALLS_REPO, 4, self.config)
        fake.set_permission(CALLS_REPO, TEAM_LEAD, "maintain")
        for k, repo in enumerate(self.burst_repos):
            add_repo(fake, repo, 100 + k, self.config)
        self.bot.env.update(bot_env(fake))

    async def close(self) -> None:
        code = self.bot.stop()
        await self.session.close()
        if code not in (0, -2, 130):
            log(f"the bot exited with {code}; see {RESULTS_DIR / 'bot-main.log'}")
        await self.fake.stop()
        problems = self.fake.problems()
        self.out["fake_github_problems"] = problems[:20]
        if problems:
            log(f"the fake GitHub saw {len(problems)} problem(s), e.g. {problems[0]}")

    def new_request(self, repo: str, i: int) -> tuple[int, bytes]:
        """A new event request in REPO (one of the examples) and its issues.opened payload."""
        name = TEMPLATES[i % len(TEMPLATES)]
        number = self.fake.add_issue(repo, title=f"Event request ({name}) {i}",
                                     body=template_body(name), user=CHAMPION,
                                     labels=[self.config.labels.event_request])
        return number, payload_bytes(issues_payload(self.fake, repo, number, "opened"))

    async def deliver(self, event: str, body: bytes, delivery_id: str | None = None) -> None:
        """One signed delivery on a new connection; anything but 202 stops the benchmark."""
        status = await deliver(self.bot.url, event, body, self.secret, delivery_id)
        if status != 202:
            raise RuntimeError(f"the bot answered {status} to a delivery")

    def goal(self, area: str, what: str, target: str, measured: str, met: bool,
             note: str = "") -> None:
        self.goals.append(Goal(area, what, target, measured, met, note))
