"""The work queue's phases: many installations, fairness, order, pace, scale-out, memory.

Each phase starts its own fake GitHub (50 ms a call) and its own bot process(es) with the
shipped config (GitHub's write pace: one write a second on average per installation), so
any one can run alone: ``--phases fleet,lone,fifo,steady,scaleout,waiting``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bot.core.config import Config
from bot.core.forms import FormTemplate
from bot.core.status import MARKER
from tests.fakegithub import FakeGitHub, OpenApiSpec
from tests.payloads import deliver, issues_payload

from .context import RESULTS_DIR, Options
from .fleet import CHAMPION, TEMPLATES, add_repo, payload_bytes, plain_issue_payloads, template_body
from .harness import BotProcess
from .loadgen import LoadSpec, run_load_in_child
from .measure import bot_env, log, ms, spread, wait_quiet
from .report import Goal

QUEUE_PHASES = ("fleet", "lone", "fifo", "steady", "scaleout", "waiting")


class Bench:
    """One fake GitHub, its installations, and the bot processes of one phase."""

    def __init__(self, opts: Options, config: Config, form: FormTemplate, spec: OpenApiSpec,
                 goals: list[Goal]) -> None:
        self.opts, self.config, self.form, self.goals = opts, config, form, goals
        self.fake = FakeGitHub(spec=spec)
        self.bots: list[BotProcess] = []
        self.session: aiohttp.ClientSession | None = None
        self.made = 0
        self.installations = 0
        self._scanned = 0
        self._posted: dict[str, float] = {}  # comment POST path -> first answered

    def repo(self, k: int) -> str:
        return f"queue-{k}-org/events"

    async def open(self, installations: int) -> None:
        self.installations = installations
        await self.fake.start()
        self.fake.faults.latency_seconds = self.opts.latency
        for k in range(installations):
            add_repo(self.fake, self.repo(k), 500 + k, self.config)
        self.session = aiohttp.ClientSession()

    async def start_bot(self, name: str, env: dict[str, str] | None = None) -> BotProcess:
        bot = BotProcess(RESULTS_DIR / f"bot-{name}.log", self.opts.config)
        bot.env.update(bot_env(self.fake))
        bot.env.update(env or {})
        bot.start()
        assert self.session is not None
        await bot.wait_healthy(self.session)
        self.bots.append(bot)
        # Its start-up reconciliation (in the background) is over before the phase acts:
        # else it lists the phase's new requests and syncs them beside the queue.
        listings = {f"/repos/{self.repo(k)}/issues" for k in range(self.installations)}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not listings <= {
                r.path.removeprefix("/api/v3") for r in self.fake.requests if r.method == "GET"}:
            await asyncio.sleep(0.05)
        await wait_quiet(self.fake, max(0.5, 6 * self.opts.latency), 60)
        return bot

    async def close(self) -> None:
        for bot in self.bots:
            bot.stop()
        if self.session is not None:
            await self.session.close()
        await self.fake.stop()

    def request(self, repo: str) -> tuple[int, bytes]:
        self.made += 1
        name = TEMPLATES[self.made % len(TEMPLATES)]
        number = self.fake.add_issue(repo, title=f"Event request {self.made}",
                                     body=template_body(name), user=CHAMPION,
                                     labels=[self.config.labels.event_request])
        return number, payload_bytes(issues_payload(self.fake, repo, number, "opened"))

    def edit(self, repo: str, number: int) -> bytes:
        return payload_bytes(issues_payload(self.fake, repo, number, "edited"))

    def status_comments(self, repo: str, number: int) -> int:
        return sum(1 for c in self.fake.comments(repo, number)
                   if MARKER in c["body"] and c["user"]["type"] == "Bot")

    def triaged_at(self, repo: str, number: int) -> float | None:
        """When the request's status comment was answered (the fake's clock), else None."""
        requests = self.fake.requests
        for r in requests[self._scanned:]:
            if r.method == "POST" and r.status == 201 and r.path.endswith("/comments"):
                self._posted.setdefault(r.path, r.time)
        self._scanned = len(requests)
        for path, at in self._posted.items():
            if path.endswith(f"/repos/{repo}/issues/{number}/comments"):
                return at
        return None

    async def until_triaged(self, wanted: Iterable[tuple[str, int]], timeout: float
                            ) -> dict[tuple[str, int], float]:
        """The fake-clock time each wanted request got its status comment."""
        wanted = set(wanted)
        found: dict[tuple[str, int], float] = {}
        deadline = time.monotonic() + timeout
        while len(found) < len(wanted) and time.monotonic() < deadline:
            for repo, number in wanted - found.keys():
                at = self.triaged_at(repo, number)
                if at is not None:
                    found[(repo, number)] = at
            await asyncio.sleep(0.05)
        return found

    def goal(self, what: str, target: str, measured: str, met: bool, note: str = "") -> None:
        self.goals.append(Goal("queue", what, target, measured, met, note))


@asynccontextmanager
async def bench(opts: Options, config: Config, form: FormTemplate, spec: OpenApiSpec,
                goals: list[Goal], installations: int) -> AsyncIterator[Bench]:
    b = Bench(opts, config, form, spec, goals)
    try:
        await b.open(installations)
        yield b
    finally:
        await b.close()


async def _send(b: Bench, bot: BotProcess, event: str, body: bytes,
                delivery_id: str | None = None) -> int:
    return await deliver(bot.url, event, body, b.fake.webhook_secret, delivery_id)


async def fleet(b: Bench, out: dict[str, Any]) -> None:
    """5,000 mixed deliveries over 10 installations, 50 at once."""
    k, per = 10, 35
    log(f"queue: a burst of 5,000 mixed deliveries over {k} installations")
    bot = await b.start_bot("fleet")
    requests = [(b.repo(i % k), 0) for i in range(k * per)]
    requests = [(repo, b.request(repo)[0]) for repo, _ in requests]
    bodies: list[bytes] = []
    for repo, number in requests:
        bodies.append(payload_bytes(issues_payload(b.fake, repo, number, "opened")))
        bodies.extend(b.edit(repo, number) for _ in range(9))
    noise = plain_issue_payloads(b.fake, b.repo(0), 1500)
    # Interleaved: a request's deliveries spread through the burst, as GitHub's would be.
    mixed = [x for pair in zip(bodies[: len(noise)], noise, strict=False) for x in pair]
    mixed += bodies[len(noise):]
    spec = LoadSpec("127.0.0.1", bot.port, tuple(mixed), "issues", b.fake.webhook_secret,
                    len(mixed), concurrency=50)
    began = time.monotonic()
    shots = (await asyncio.to_thread(run_load_in_child, spec)).shots
    statuses = Counter(s.status for s in shots)
    acks = spread([s.latency for s in shots])
    found = await b.until_triaged(requests, timeout=900)
    converged = time.monotonic() - began
    duplicates = sum(1 for repo, n in requests if b.status_comments(repo, n) > 1)
    result = {"deliveries": len(shots), "statuses": {str(s): c for s, c in statuses.items()},
              "ack": acks, "requests": len(requests), "converged": len(found),
              "converge_s": round(converged, 1), "duplicate_status_comments": duplicates}
    out["queue_fleet"] = result
    b.goal("5,000 mixed deliveries over 10 installations: 503s", "0",
           str(statuses.get(503, 0)), statuses.get(503, 0) == 0,
           f"{len(found)}/{len(requests)} requests converged in {converged:.0f} s")
    b.goal("… ack p99", "<= 10 ms", f"{acks['p99_ms']:.1f} ms", acks["p99_ms"] <= 10,
           f"p50 {acks['p50_ms']:.1f} ms")
    b.goal("… every request converged, one status comment", f"{len(requests)}",
           f"{len(found)}, {duplicates} duplicated", len(found) == len(requests)
           and duplicates == 0, f"time to converge {converged:.0f} s")
    log(f"  503: {statuses.get(503, 0)}, ack p99 {acks['p99_ms']} ms, converged "
        f"{len(found)}/{len(requests)} in {converged:.0f} s")


async def lone(b: Bench, out: dict[str, Any], draining: int = 1000) -> None:
    """A lone request in a quiet installation while another drains DRAINING."""
    log(f"queue: a lone request while another installation drains {draining}")
    bot = await b.start_bot("lone")
    busy = [b.request(b.repo(0))[1] for _ in range(draining)]
    spec = LoadSpec("127.0.0.1", bot.port, tuple(busy), "issues", b.fake.webhook_secret,
                    len(busy), concurrency=50)
    await asyncio.to_thread(run_load_in_child, spec)
    await asyncio.sleep(2.0)  # the drain is under way
    number, body = b.request(b.repo(1))
    sent = time.monotonic()
    await _send(b, bot, "issues", body)
    found = await b.until_triaged([(b.repo(1), number)], timeout=60)
    took = found.get((b.repo(1), number), float("inf")) - sent
    drained = sum(1 for n in range(1, draining + 1) if b.triaged_at(b.repo(0), n) is not None)
    out["queue_lone"] = {"draining": draining, "triage_ms": ms(took),
                         "busy_triaged_meanwhile": drained}
    b.goal(f"lone request while another installation drains {draining}: triaged in",
           "< 1 s", f"{took * 1000:.0f} ms", took < 1.0,
           f"{drained} of the {draining} triaged by then")
    log(f"  lone request triaged in {took * 1000:.0f} ms")


async def fifo(b: Bench, out: dict[str, Any], n: int = 50) -> None:
    """A burst of N requests in one installation: first and median completion, the drain."""
    log(f"queue: FIFO completion in a burst of {n} in one installation")
    bot = await b.start_bot("fifo")
    made = [b.request(b.repo(0)) for _ in range(n)]
    sent = time.monotonic()
    for _, body in made:  # one after the other: arrival order is creation order
        await _send(b, bot, "issues", body)
    found = await b.until_triaged([(b.repo(0), num) for num, _ in made], timeout=600)
    times = sorted(t - sent for t in found.values())
    order = [found.get((b.repo(0), num), float("inf")) for num, _ in made]
    in_order = sum(1 for x, y in zip(order, order[1:], strict=False) if x <= y)
    first, median, last = times[0], statistics.median(times), times[-1]
    forbidden = sum(1 for r in b.fake.requests if r.status == 403)
    per = last / n
    out["queue_fifo"] = {"requests": n, "first_s": round(first, 2), "median_s": round(median, 2),
                         "last_s": round(last, 2), "s_per_request": round(per, 2),
                         "in_order_pairs": in_order, "forbidden": forbidden}
    b.goal(f"burst of {n} in one installation: first triaged", "<= 2 s", f"{first:.2f} s",
           first <= 2, f"{in_order + 1}/{n} finished in arrival order")
    b.goal("… median finishes in the first half of the drain", f"<= {last / 2:.0f} s",
           f"{median:.1f} s", median <= last / 2 + 0.5 * per, "")
    b.goal("… drain per request, 0 × 403", "<= 2.1 s, 0", f"{per:.2f} s, {forbidden}",
           per <= 2.1 and forbidden == 0, "")
    log(f"  first {first:.2f} s, median {median:.1f} s, last {last:.1f} s, {forbidden} × 403")


async def steady(b: Bench, out: dict[str, Any], n: int = 15, every: float = 2.0) -> None:
    """One request every EVERY seconds: time to triage."""
    log(f"queue: one request every {every:g} s ({n})")
    bot = await b.start_bot("steady")
    took: list[float] = []
    for _ in range(n + 1):
        number, body = b.request(b.repo(0))
        sent = time.monotonic()
        began = time.monotonic()
        await _send(b, bot, "issues", body)
        found = await b.until_triaged([(b.repo(0), number)], timeout=30)
        took.append(found.get((b.repo(0), number), float("inf")) - sent)
        await asyncio.sleep(max(0.0, every - (time.monotonic() - began)))
    s = spread(took[1:])  # the first warms the caches
    out["queue_steady"] = {"requests": n, "every_s": every, "triage": s}
    b.goal(f"one request every {every:g} s: triage p50", "<= 200 ms", f"{s['p50_ms']:.0f} ms",
           s["p50_ms"] <= 200, f"p95 {s['p95_ms']:.0f} ms")
    log(f"  triage p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms")


async def scaleout(b: Bench, out: dict[str, Any], per: int = 15, k: int = 2) -> None:
    """Two processes on one Redis: pace per installation, duplicates, work lost to a SIGKILL."""
    from tests.redisserver import redis_server, redis_server_or_skip

    log("queue: two processes on one Redis, one killed mid-burst")
    with redis_server(redis_server_or_skip()) as url:
        one = await b.start_bot("redis-1", {"REDIS_URL": url})
        two = await b.start_bot("redis-2", {"REDIS_URL": url})
        made = [(b.repo(i % k), *b.request(b.repo(i % k))) for i in range(per * k)]
        for i, (_, _, body) in enumerate(made):
            target = one if i % 2 else two
            # GitHub retries: the same delivery to both processes.
            await _send(b, target, "issues", body, f"d{i}")
            await _send(b, two if target is one else one, "issues", body, f"d{i}")
        await asyncio.sleep(3.0)
        assert one._proc is not None
        one._proc.kill()  # SIGKILL mid-burst: no goodbye
        found = await b.until_triaged([(r, n) for r, n, _ in made], timeout=600)
        lost = len(made) - len(found)
        duplicates = sum(1 for r, n, _ in made if b.status_comments(r, n) > 1)
    gaps: list[float] = []
    rates: list[float] = []
    window = 10.0
    most = 0  # writes of one installation in any WINDOW seconds
    for inst in range(500, 500 + k):
        writes = [r.time for r in b.fake.requests if r.is_write and r.installation_id == inst]
        gaps += [y - x for x, y in zip(writes, writes[1:], strict=False)]
        if len(writes) > 1:
            rates.append((len(writes) - 1) / (writes[-1] - writes[0]))
        for i, start in enumerate(writes):
            most = max(most, sum(1 for t in writes[i:] if t < start + window))
    burst = b.config.github.write_burst
    allowed = burst + window / b.config.github.write_interval_seconds
    out["queue_scaleout"] = {"requests": len(made), "lost": lost, "duplicates": duplicates,
                             "writes_per_installation_per_s": [round(r, 2) for r in rates],
                             "most_writes_in_10_s": most, "allowed_in_10_s": allowed,
                             "least_gaps_s": [round(g, 3) for g in sorted(gaps)[:5]]}
    b.goal("two processes on one Redis: status comments per request", "1",
           f"{duplicates} duplicated", duplicates == 0, "")
    b.goal("… one installation's writes in any 10 s (both processes)",
           f"<= {allowed:.0f} (burst {burst} + 1/s)", str(most), most <= allowed,
           f"{', '.join(f'{r:.2f}' for r in rates)} writes/s first to last, the "
           "lease's take-over included")
    b.goal("… work lost after a SIGKILL mid-burst", "0", str(lost), lost == 0, "")
    log(f"  duplicates {duplicates}, lost {lost}, writes/s {rates}")


async def waiting(b: Bench, out: dict[str, Any], n: int = 1000) -> None:
    """Peak RSS with N requests waiting."""
    log(f"queue: peak RSS with {n} requests waiting")
    bot = await b.start_bot("waiting")
    bodies = [b.request(b.repo(0))[1] for _ in range(n)]
    bot.reset_peak()
    spec = LoadSpec("127.0.0.1", bot.port, tuple(bodies), "issues", b.fake.webhook_secret,
                    len(bodies), concurrency=50)
    await asyncio.to_thread(run_load_in_child, spec)
    await asyncio.sleep(2.0)
    assert b.session is not None
    health = await bot.health(b.session)
    memory = bot.memory()
    out["queue_waiting"] = {"requests": n, "waiting": health["queue_depth"],
                            "peak_mib": round(memory.peak_mib, 1)}
    b.goal(f"peak RSS with {n} requests waiting", "<= 80 MB", f"{memory.peak_mib:.1f} MiB",
           memory.peak_mib * 1.048576 <= 80, f"{health['queue_depth']} waiting at the reading")
    log(f"  peak RSS {memory.peak_mib:.1f} MiB, {health['queue_depth']} waiting")


async def run_queue_phases(opts: Options, config: Config, form: FormTemplate,
                           spec: OpenApiSpec, out: dict[str, Any], goals: list[Goal]) -> None:
    plan = {"fleet": (fleet, 10), "lone": (lone, 2), "fifo": (fifo, 1),
            "steady": (steady, 1), "scaleout": (scaleout, 2), "waiting": (waiting, 1)}
    for name in QUEUE_PHASES:
        if name in opts.phases:
            phase, installations = plan[name]
            async with bench(opts, config, form, spec, goals, installations) as b:
                await phase(b, out)

