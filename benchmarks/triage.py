"""The phases that triage: time to triage (one at a time, a burst) and GitHub calls per
request and per command."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.payloads import issue_comment_payload, issues_payload

from .context import CALLS_REPO, SOLO_REPO, TEAM_LEAD, Run
from .fleet import CHAMPION, payload_bytes, template_body
from .measure import Watcher, call_summary, log, ms, spread

# Each command once, as a team lead, in an order where each has something to do.
COMMANDS = ("/help", "/checklist", "/assign @carol", "/unassign @carol", "/prewarm 3",
            "/reschedule 2027-03-16 13:00", "/approve-tier", "/decline-tier over budget",
            "/cancel")

async def triage_single(run: Run) -> None:
    n = run.opts.single
    gap = run.config.github.write_interval_seconds
    log(f"time to triage: {n} requests one at a time (plus one to warm up)")
    watcher = Watcher(run.fake)
    watcher.start()
    timings: list[tuple[float, float]] = []  # (status comment, labels+assignees)
    try:
        for i in range(n + 1):
            number, body = run.new_request(SOLO_REPO, i)
            path = f"/repos/{SOLO_REPO}/issues/{number}"
            sent = time.monotonic()
            await run.deliver("issues", body)
            commented = await watcher.wait_for("POST", path + "/comments")
            patched = await watcher.wait_for("PATCH", path)
            run.processed += 1
            await run.bot.settle(run.session, run.processed)
            timings.append((commented - sent, patched - sent))
            # Requests arrive minutes apart in life: none waits on the last one's writes
            # (the write credit earns back one write per interval).
            await asyncio.sleep(gap * run.config.github.write_burst + 0.05)
    finally:
        await watcher.stop()
    warm = timings[1:]
    result: dict[str, Any] = {
        "requests": n, "latency_per_call_ms": ms(run.opts.latency),
        "first_write": spread([min(t) for t in warm]),
        "status_comment": spread([t[0] for t in warm]),
        "labels_and_assignees": spread([t[1] for t in warm]),
        "triaged": spread([max(t) for t in warm]),
        "first_request_cold": {"status_comment_ms": ms(timings[0][0]),
                               "labels_and_assignees_ms": ms(timings[0][1])},
        "write_interval_s": gap,
    }
    run.out["triage_single"] = result
    p95 = result["status_comment"]["p95_ms"]
    first = result["first_write"]["p95_ms"]
    run.goal(
        "triage", "time to the status comment, one request at a time "
        f"({run.opts.latency * 1000:.0f} ms a call), p95", "< 200 ms", f"{p95:.0f} ms",
        p95 < 200, f"first write (labels, assignees) p95 {first:.0f} ms; write_burst "
        f"{run.config.github.write_burst}, so the comment does not wait the "
        f"{gap:g} s write interval")
    log(f"  status comment p50 {result['status_comment']['p50_ms']} ms, p95 {p95} ms; "
        f"labels p95 {result['labels_and_assignees']['p95_ms']} ms")


async def triage_burst(run: Run) -> None:
    n, k = run.opts.burst, run.opts.burst_installations
    log(f"time to triage: a burst of {n} requests over {k} installations")
    requests = [(run.burst_repos[i % k], *run.new_request(run.burst_repos[i % k], i))
                for i in range(n)]
    mark = len(run.fake.requests)
    watcher = Watcher(run.fake)
    watcher.start()
    sent: dict[int, float] = {}

    async def one(i: int, body: bytes) -> None:
        sent[i] = time.monotonic()
        await run.deliver("issues", body)

    try:
        began = time.monotonic()
        await asyncio.gather(*(one(i, body) for i, (_, _, body) in enumerate(requests)))
        comment_s, done_s = [], []
        finished: dict[str, float] = {}
        for i, (repo, number, _) in enumerate(requests):
            path = f"/repos/{repo}/issues/{number}"
            commented = await watcher.wait_for("POST", path + "/comments")
            patched = await watcher.wait_for("PATCH", path)
            comment_s.append(commented - sent[i])
            done_s.append(patched - sent[i])
            finished[repo] = max(finished.get(repo, 0.0), patched, commented)
        run.processed += n
        await run.bot.settle(run.session, run.processed)
    finally:
        await watcher.stop()
    records = run.fake.requests[mark:]
    per_installation = [(finished[repo] - began) / sum(1 for r, _, _ in requests
                                                        if r == repo)
                        for repo in finished]
    gaps = []
    busiest_second = 0  # the most writes of one installation inside any one second
    for repo in run.burst_repos:
        writes = sorted(r.time for r in records if r.is_write and f"/repos/{repo}/" in r.path)
        gaps += [b - a for a, b in zip(writes, writes[1:], strict=False)]
        for i, start in enumerate(writes):
            busiest_second = max(busiest_second,
                                 sum(1 for t in writes[i:] if t < start + 1.0))
    limited = sum(1 for r in records if r.status in (403, 429))
    result: dict[str, Any] = {
        "requests": n, "installations": k,
        "status_comment": spread(comment_s), "labels_and_assignees": spread(done_s),
        "triaged": spread([max(a, b) for a, b in zip(comment_s, done_s, strict=True)]),
        "burst_s": round(max(max(comment_s), max(done_s)), 2),
        "seconds_per_request_per_installation": round(max(per_installation), 2),
        "min_gap_between_writes_s": round(min(gaps), 3) if gaps else None,
        "most_writes_in_one_second": busiest_second,
        "secondary_limit_answers": limited + len(run.fake.window_violations),
        "calls": call_summary(records),
    }
    run.out["triage_burst"] = result
    per = result["seconds_per_request_per_installation"]
    run.goal("triage", f"burst of {n} over {k} installations: seconds a request within an "
             "installation", "<= 2 s", f"{per:.2f} s", per <= 2.0,
             f"status comment p50 {result['status_comment']['p50_ms']:.0f} ms, "
             f"p95 {result['status_comment']['p95_ms']:.0f} ms")
    run.goal("triage", "secondary-limit answers in the burst", "0",
             str(result["secondary_limit_answers"]), result["secondary_limit_answers"] == 0,
             f"at most {busiest_second} writes of one installation in any second "
             f"(write_burst {run.config.github.write_burst}, then one a "
             f"{run.config.github.write_interval_seconds:g} s)")
    log(f"  status comment p50 {result['status_comment']['p50_ms']} ms, p95 "
        f"{result['status_comment']['p95_ms']} ms; {per} s a request per installation")


# --- GitHub calls per request ---


async def _measure(run: Run, event: str, payload: dict[str, Any] | bytes,
                   delivery_id: str | None = None, *, counts: bool = True
                   ) -> dict[str, Any]:
    mark = len(run.fake.requests)
    body = payload if isinstance(payload, bytes) else payload_bytes(payload)
    await run.deliver(event, body, delivery_id)
    if counts:
        run.processed += 1
    await run.bot.settle(run.session, run.processed)
    await asyncio.sleep(run.opts.latency + 0.05)  # nothing still on its way
    return call_summary(run.fake.requests[mark:])


async def calls_per_request(run: Run) -> None:
    log("GitHub calls per request")
    fake, repo = run.fake, CALLS_REPO
    gap = run.config.github.write_interval_seconds + 0.05
    rows: dict[str, Any] = {}
    name = "exam"  # needs approval, so the tier commands have something to do
    number = fake.add_issue(repo, title="STAT 101 midterm", body=template_body(name),
                            user=CHAMPION, labels=[run.config.labels.event_request])
    opened = issues_payload(fake, repo, number, "opened")
    delivery_id = "bench-opened-1"
    rows["new request (issues.opened)"] = await _measure(run, "issues", opened, delivery_id)
    await asyncio.sleep(gap)
    rows["redelivery of the same delivery"] = await _measure(run,
        "issues", opened, delivery_id, counts=False)
    old = fake.issue(repo, number)["body"]
    fake.edit_issue(repo, number, body=old.replace("180", "240"))
    rows["edited request (attendees changed)"] = await _measure(run,
        "issues", issues_payload(fake, repo, number, "edited",
                                 changes={"body": {"from": old}}))
    await asyncio.sleep(gap)
    fake.edit_issue(repo, number, title="STAT 101 spring midterm")
    rows["edited request (title only: nothing to change)"] = await _measure(run,
        "issues", issues_payload(fake, repo, number, "edited",
                                 changes={"title": {"from": "STAT 101 midterm"}}))
    await asyncio.sleep(gap)
    for command in COMMANDS:
        comment_id = fake.add_comment(repo, number, command, TEAM_LEAD)
        rows[f"command {command.split()[0]}"] = await _measure(
            run, "issue_comment", issue_comment_payload(fake, repo, number, comment_id))
        await asyncio.sleep(gap)
    run.out["calls_per_request"] = rows
    for label, row in rows.items():
        if isinstance(row, dict):
            log(f"  {label}: {row['calls']} calls ({row['reads']} reads, {row['writes']} "
                f"writes, {row['counted_against_primary_limit']} counted)")
