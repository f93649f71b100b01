"""The work queue: keyed by issue, coalescing, fair lanes per installation, a door."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest

from bot.service.admission import admit
from bot.service.metrics import Metrics
from bot.service.server import Delivery
from bot.service.workqueue import Arrival, IssueKey, IssueQueue, Work

from .botapp import running_bot
from .fakegithub import FakeGitHub
from .payloads import issue_comment_payload, issues_payload, webhook_payload
from .requests_seed import FORM
from .test_faults import OPENED, REPO, faulty_config, form_body, seed, status_comments

CONFIG = faulty_config()


def arrival(installation: int, number: int, delivery_id: str, *, command: bool = False
            ) -> Arrival:
    key = IssueKey(installation, f"org{installation}/repo", number)
    event = "issue_comment" if command else "issues"
    return Arrival(key, key.repo, Delivery(delivery_id, event, {"action": "created"}),
                   sync=not command, command=command)


class Recorder:
    """A runner that records each run, holding each until the test lets it go."""

    def __init__(self, hold: float = 0.0) -> None:
        self.runs: list[Work] = []
        self.running: dict[IssueKey, int] = {}
        self.overlaps: list[IssueKey] = []
        self.lanes_at_once: list[int] = []  # keys of one installation running together
        self.hold = hold
        self.left: dict[IssueKey, Work] = {}

    async def __call__(self, work: Work) -> Work | None:
        key = work.key
        if self.running.get(key):
            self.overlaps.append(key)
        self.running[key] = self.running.get(key, 0) + 1
        self.lanes_at_once.append(sum(n for k, n in self.running.items()
                                      if k.installation == key.installation))
        try:
            await asyncio.sleep(self.hold)
            self.runs.append(work)
        finally:
            self.running[key] -= 1
        return self.left.pop(key, None)


def queue_of(runner: Recorder, arrivals: dict[str, Arrival], *, workers: int = 4,
             max_waiting: int = 1000) -> IssueQueue:
    def door(delivery: Delivery) -> Arrival | None:
        return arrivals.get(delivery.id)

    return IssueQueue(door, runner, Metrics(), max_waiting=max_waiting, workers=workers,
                      retry_base_seconds=0.01)


def offer(queue: IssueQueue, arrivals: dict[str, Arrival], a: Arrival) -> str:
    arrivals[a.delivery.id] = a
    return queue.offer(a.delivery)


async def test_deliveries_about_one_issue_that_wait_together_run_once() -> None:
    runner, arrivals = Recorder(), {}
    queue = queue_of(runner, arrivals)
    answers = [offer(queue, arrivals, arrival(1, 5, f"d{i}")) for i in range(10)]
    answers.append(offer(queue, arrivals, arrival(1, 5, "c1", command=True)))
    answers.append(offer(queue, arrivals, arrival(1, 5, "c2", command=True)))
    assert answers == ["queued"] * 12
    assert queue.depth == 1
    assert queue.offer(Delivery("d3", "issues", {})) == "duplicate"
    queue.start()
    assert await queue.drain(5)
    await queue.stop()
    assert len(runner.runs) == 1
    work = runner.runs[0]
    assert work.sync and [c.id for c in work.commands] == ["c1", "c2"]  # each command once
    assert queue.offer(Delivery("d0", "issues", {})) == "duplicate"  # done is remembered


async def test_a_key_readded_while_it_runs_runs_once_more_after_and_never_twice_at_once(
) -> None:
    runner, arrivals = Recorder(hold=0.05), {}
    queue = queue_of(runner, arrivals, workers=8)
    queue.start()
    offer(queue, arrivals, arrival(1, 5, "a"))
    await asyncio.sleep(0.01)  # "a" is running
    for i in range(5):
        offer(queue, arrivals, arrival(1, 5, f"b{i}"))
    assert await queue.drain(5)
    await queue.stop()
    assert runner.overlaps == []
    assert [w.ids for w in runner.runs] == [["a"], [f"b{i}" for i in range(5)]]


async def test_lanes_take_turns_and_an_installation_runs_one_key_at_a_time_in_order() -> None:
    runner, arrivals = Recorder(hold=0.02), {}
    queue = queue_of(runner, arrivals, workers=1)
    for n in range(1, 6):
        offer(queue, arrivals, arrival(1, n, f"busy{n}"))
    offer(queue, arrivals, arrival(2, 1, "quiet"))
    queue.start()
    assert await queue.drain(5)
    await queue.stop()
    order = [(w.key.installation, w.key.number) for w in runner.runs]
    # One worker: the quiet installation's request goes second, not sixth.
    assert order == [(1, 1), (2, 1), (1, 2), (1, 3), (1, 4), (1, 5)]


async def test_a_quiet_installation_is_not_held_up_by_a_busy_one() -> None:
    runner, arrivals = Recorder(hold=0.05), {}
    queue = queue_of(runner, arrivals, workers=4)
    for n in range(1, 21):
        offer(queue, arrivals, arrival(1, n, f"busy{n}"))
    queue.start()
    await asyncio.sleep(0.02)
    offer(queue, arrivals, arrival(2, 1, "quiet"))
    loop = asyncio.get_running_loop()
    began = loop.time()
    while not any(w.key.installation == 2 for w in runner.runs):
        await asyncio.sleep(0.005)
    assert loop.time() - began < 0.2  # 20 × 50 ms wait in the busy lane
    assert await queue.drain(5)
    await queue.stop()
    assert max(runner.lanes_at_once) == 1  # never two keys of one installation at once
    assert [w.key.number for w in runner.runs if w.key.installation == 1] == list(range(1, 21))


async def test_the_bound_is_in_issues_waiting() -> None:
    runner, arrivals = Recorder(), {}
    queue = queue_of(runner, arrivals, max_waiting=3)
    answers = [offer(queue, arrivals, arrival(1, n % 3 + 1, f"d{n}")) for n in range(300)]
    assert answers == ["queued"] * 300
    assert offer(queue, arrivals, arrival(1, 4, "x")) == "full"
    assert queue.depth == 3


async def test_work_left_over_runs_again_after_a_back_off() -> None:
    runner, arrivals = Recorder(), {}
    queue = queue_of(runner, arrivals)
    a = arrival(1, 5, "c1", command=True)
    runner.left[a.key] = Work.of(a)
    offer(queue, arrivals, a)
    queue.start()
    for _ in range(200):
        if len(runner.runs) == 2:
            break
        await asyncio.sleep(0.01)
    assert await queue.drain(5)
    await queue.stop()
    assert [w.ids for w in runner.runs] == [["c1"], ["c1"]]
    assert "c1" not in queue.pending_ids


# --- the door -------------------------------------------------------------------------------


def _delivery(event: str, payload: dict[str, Any]) -> Delivery:
    return Delivery("d", event, payload)


@pytest.fixture
def door_fake(fake_github: FakeGitHub) -> FakeGitHub:
    seed(fake_github)
    return fake_github


@pytest.mark.parametrize(
    ("event", "action", "labels", "body", "kept"),
    [
        ("issues", "opened", ["event-request"], "anything", True),
        ("issues", "opened", [], "form", True),  # the form's headings
        ("issues", "opened", [], "just a question", False),
        ("issues", "edited", [], "just a question", False),
        ("issues", "assigned", ["event-request"], "form", False),
        ("issues", "labeled", ["event-request"], "form", True),
        ("issues", "labeled", ["bug"], "just a question", False),
        ("issues", "closed", [], "just a question", False),
        ("issues", "reopened", ["event-request"], "form", True),
        ("issue_comment", "created", ["event-request"], "/cancel", True),
        ("issue_comment", "created", ["event-request"], "thanks!", False),
        ("issue_comment", "deleted", ["event-request"], "/cancel", False),
        ("issue_comment", "edited", ["event-request"], "/cancel", False),
    ],
)
def test_the_door_keeps_what_can_lead_to_work(door_fake: FakeGitHub, event: str, action: str,
                                              labels: list[str], body: str, kept: bool
                                              ) -> None:
    text = form_body() if body == "form" else body
    if event == "issues":
        number = door_fake.add_issue(REPO, labels=labels, created_at=OPENED, body=text)
        payload = issues_payload(door_fake, REPO, number, action)
    else:
        number = door_fake.add_issue(REPO, labels=labels, created_at=OPENED, body=form_body())
        comment = door_fake.add_comment(REPO, number, body, "champion")
        payload = issue_comment_payload(door_fake, REPO, number, comment, action)
    assert (admit(_delivery(event, payload), CONFIG, FORM) is not None) is kept


def test_an_edit_that_removes_the_headings_is_kept(door_fake: FakeGitHub) -> None:
    number = door_fake.add_issue(REPO, labels=[], created_at=OPENED, body="gone")
    payload = issues_payload(door_fake, REPO, number, "edited",
                             changes={"body": {"from": form_body()}})
    assert admit(_delivery("issues", payload), CONFIG, FORM) is not None


def test_a_waiting_entry_does_not_grow_with_the_payload(door_fake: FakeGitHub) -> None:
    sizes = []
    for padding in (0, 60_000):
        number = door_fake.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                     body=form_body() + "\n" + "x" * padding)
        payload = issues_payload(door_fake, REPO, number, "edited")
        found = admit(_delivery("issues", payload), CONFIG, FORM)
        assert found is not None
        sizes.append(len(json.dumps(found.delivery.payload)))
    assert sizes[0] == sizes[1] < 1000


def test_installation_events_are_kept_whole_and_each_its_own_key() -> None:
    payload = webhook_payload("installation", "created")
    found = admit(Delivery("i1", "installation", payload), CONFIG, FORM)
    assert found is not None and found.key.delivery == "i1"
    deleted = webhook_payload("installation", "deleted")
    assert admit(Delivery("i2", "installation", deleted), CONFIG, FORM) is None


# --- end to end -----------------------------------------------------------------------------


async def test_a_burst_about_few_issues_is_all_answered_202_and_each_command_runs_once(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    config = replace(CONFIG, server=replace(CONFIG.server, queue_size=10))
    async with running_bot(fake_github, app_key, config=config) as running:
        numbers = [fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                         body=form_body()) for _ in range(3)]
        await running.queue.stop()  # hold the work while the burst arrives
        payloads = [issues_payload(fake_github, REPO, numbers[i % 3], "edited")
                    for i in range(300)]
        comment = fake_github.add_comment(REPO, numbers[0], "/tier premium", "champion")
        answers = await asyncio.gather(*(running.deliver("issues", p) for p in payloads))
        said = await running.deliver("issue_comment", issue_comment_payload(
            fake_github, REPO, numbers[0], comment))
        assert [r.status for r in answers].count(503) == 0 and said.status == 202
        assert running.queue.depth == 3
        running.queue.start()
        await running.settle()
    for n in numbers:
        assert len(status_comments(fake_github, REPO, n)) == 1
    replies = [c for c in fake_github.comments(REPO, numbers[0])
               if c["user"]["type"] == "Bot" and c["id"] > comment]
    assert len(replies) <= 2  # the status comment, and at most one answer to the command
