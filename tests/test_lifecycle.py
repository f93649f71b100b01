"""Reminders, the summary, the follow-up and closing, decided by the pure plan as time passes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from bot.core import lifecycle
from bot.core.config import Config

from .lifecycle_sim import END, OPENED, START, Sim, base_config, form_body, make_issue, option

H = timedelta(hours=1)
D = timedelta(days=1)


def no_prewarm() -> Config:
    return base_config(repository="")


def reminded(sim: Sim) -> list[tuple[datetime, list[str]]]:
    """(when, the item ids named) for each reminder comment."""
    ids = {i.id: i.text for i in sim.last.checklist} if sim.last else {}
    out = []
    for said in sim.said("**Reminder:**"):
        out.append((said.at, [i for i, t in ids.items() if t in said.text]))
    return out


EXAM_REMINDERS = [
    (START - 21 * D, ["confirm-details"]),
    (START - 14 * D, ["cloud-quotas", "image-update"]),  # due together: one comment
    (START - 7 * D, ["image-freeze", "node-pool"]),
    (START - 3 * D, ["access-test"]),
    (START - 2 * D, ["login-test"]),
    (START - 12 * H, ["guaranteed-qos"]),
    (START - 2 * H, ["prewarm"]),
    (START, ["oncall-watch"]),
    (END + 1 * D, ["scale-down"]),
    (END + 7 * D - H, ["debrief"]),  # calendar days: the clocks change on 14 March
]
WORKSHOP_REMINDERS = [r for r in EXAM_REMINDERS
                      if not set(r[1]) & {"access-test", "guaranteed-qos"}]


@pytest.mark.parametrize(("event_type", "expected"), [
    ("exam", EXAM_REMINDERS),
    ("workshop", WORKSHOP_REMINDERS),
])
def test_a_whole_event_says_each_thing_once_at_its_time(
        event_type: str, expected: list[tuple[datetime, list[str]]]) -> None:
    sim = Sim(no_prewarm(), issue=make_issue(form_body(event_type=option("event_type",
                                                                          event_type))))
    # The after-event items get ticked a day after the debrief reminder.
    tick_after = {END + 8 * D: lambda s: s.ticked.update({"scale-down", "debrief"})}
    times = sim.follow(OPENED, END + 30 * D, tick_after)

    assert reminded(sim) == expected
    engineers = " ".join(f"@{a}" for a in sim.issue.assignees)
    assert engineers and all(engineers in r.text for r in sim.said("**Reminder:**"))
    [summary] = sim.said("The event starts in 24 hours")
    assert summary.at == START - 24 * H
    [follow_up] = sim.said("The event is over")
    assert follow_up.at == END
    assert "@prof-okafor" in follow_up.text
    assert all(q in follow_up.text for q in sim.config.debrief_questions)
    assert "event: done" in sim.issue.labels
    assert sim.issue.state == "closed" and sim.closed_at == END + 8 * D
    assert len(sim.replies) == len(expected) + 2
    # The scheduler woke only when something was due (plus the tick that closed it).
    assert len(times) == 1 + len(expected) + 2 + 1


def test_the_same_moment_twice_changes_nothing() -> None:
    sim = Sim(no_prewarm())
    sim.run(OPENED)
    for now in (START - 14 * D, START - 24 * H, END):
        sim.run(now)
        said = len(sim.replies)
        desired = sim.run(now)
        assert desired.replies == () and desired.status_body is None
        assert not desired.labels_add and not desired.labels_remove
        assert len(sim.replies) == said


def test_a_late_trigger_catches_up_in_one_comment_per_kind() -> None:
    sim = Sim(no_prewarm())
    sim.run(OPENED)
    sim.run(START - H)  # the bot was down for weeks
    [(at, ids)] = reminded(sim)
    assert at == START - H
    assert ids == ["confirm-details", "cloud-quotas", "image-update", "image-freeze",
                   "node-pool", "access-test", "login-test", "guaranteed-qos", "prewarm"]
    assert len(sim.said("The event starts in")) == 1
    sim.run(START - H)
    assert len(sim.replies) == 2


@pytest.mark.parametrize(("opened", "catch_up", "summary", "first_reminder"), [
    # Opened 2 days ahead: what was due is listed once; later items get their own reminder.
    (START - 2 * D - 5 * H, ["confirm-details", "cloud-quotas", "image-update",
                             "image-freeze", "node-pool", "access-test"],
     START - 24 * H, (START - 2 * D, ["login-test"])),
    # Opened 10 hours ahead: the summary (due at once) lists everything; no separate list.
    (START - 10 * H, None, START - 10 * H, (START - 2 * H, ["prewarm"])),
])
def test_short_notice_does_not_flood(opened: datetime, catch_up: list[str] | None,
                                     summary: datetime, first_reminder: tuple[datetime,
                                                                              list[str]]) -> None:
    sim = Sim(no_prewarm(), issue=make_issue(opened=opened))
    sim.follow(opened, START + H)
    late = sim.said("**Already due:**")
    if catch_up is None:
        assert late == []
    else:
        [said] = late
        assert said.at == opened
        assert [i.id for i in sim.last.checklist if i.text in said.text] == catch_up  # type: ignore[union-attr]
        assert "@alice" in said.text or "@bob" in said.text
    assert [s.at for s in sim.said("The event starts in")] == [summary]
    assert reminded(sim)[0] == first_reminder
    # Every item is named in at most one reminder or catch-up comment.
    named = [i for _, ids in reminded(sim) for i in ids] + (catch_up or [])
    assert len(named) == len(set(named))


def test_an_event_the_bot_first_meets_after_it_ended_gets_only_the_follow_up() -> None:
    sim = Sim(no_prewarm())
    sim.run(END + 2 * H)
    assert [r.text.split("**")[1] for r in sim.replies] == ["The event is over."]


@pytest.mark.parametrize("how", ["cancelled", "needs-info", "closed"])
def test_nothing_for_cancelled_broken_or_closed_requests(how: str) -> None:
    sim = Sim(no_prewarm())
    sim.run(OPENED)
    if how == "cancelled":
        sim.set_state(cancelled_by="prof-okafor", cancelled_at="2026-12-01T10:00:00Z")
    elif how == "needs-info":
        sim.issue = replace(sim.issue, body=form_body(attendees="lots"))
    else:
        sim.issue = replace(sim.issue, state="closed")
    for now in (START - 14 * D, START - 24 * H, START, END, END + 8 * D):
        sim.run(now)
        assert sim.next_due(now) is None
    assert sim.replies == []
    assert "event: done" not in sim.issue.labels


def test_ticked_items_are_not_reminded() -> None:
    sim = Sim(no_prewarm())
    sim.run(OPENED)
    sim.ticked.update({"confirm-details", "cloud-quotas", "image-freeze", "node-pool"})
    sim.follow(START - 20 * D, START - 6 * D)
    assert [ids for _, ids in reminded(sim)] == [["image-update"]]


@pytest.mark.parametrize(("close_setting", "ticked", "already_closed_once", "closes"), [
    (True, {"scale-down", "debrief"}, False, True),
    (True, {"scale-down"}, False, False),
    (False, {"scale-down", "debrief"}, False, False),
    (True, {"scale-down", "debrief"}, True, False),  # a person reopened it: it stays open
])
def test_closing_after_the_after_event_items(close_setting: bool, ticked: set[str],
                                             already_closed_once: bool, closes: bool) -> None:
    config = no_prewarm()
    config = replace(config, scheduler=replace(config.scheduler,
                                               close_when_after_items_ticked=close_setting))
    sim = Sim(config)
    sim.run(OPENED)
    sim.run(END)
    if already_closed_once:
        sim.set_state(sent=(*sim.state().sent, lifecycle.CLOSED))
    sim.ticked.update(ticked)
    sim.run(END + 9 * D)
    assert (sim.issue.state == "closed") is closes
    assert ("closes by itself" in sim.said("The event is over")[0].text) is close_setting


@pytest.mark.parametrize(("now", "expected"), [
    (OPENED, START - 21 * D),
    (START - 21 * D, START - 14 * D),
    (START - 25 * H, START - 24 * H),
    (START - 24 * H, START - 12 * H),
    (START - H, START),
    (START, END),
    (END, END + D),
    (END + 7 * D - H, None),  # only people can move it on now: tick the boxes
])
def test_next_due(now: datetime, expected: datetime | None) -> None:
    sim = Sim(no_prewarm())
    sim.follow(OPENED, now)
    assert sim.next_due(now) == expected


def test_next_due_is_now_while_something_is_due_and_not_done() -> None:
    sim = Sim(no_prewarm())
    sim.run(OPENED)
    assert sim.last is not None
    assert lifecycle.next_due(sim.issue, sim.last, frozenset(), sim.config,
                              START - 14 * D) == START - 14 * D
    assert lifecycle.next_due(sim.issue, sim.last, frozenset(), sim.config,
                              START - 13 * D) == START - 13 * D


def test_reminder_text_is_safe_and_names_everyone() -> None:
    sim = Sim(no_prewarm())
    sim.issue = replace(sim.issue, assignees=("carol",))
    sim.run(OPENED)
    sim.run(START - 21 * D)
    [said] = sim.said("**Reminder:**")
    assert "@carol" in said.text and "@alice" in said.text
    assert "2027-02-16 19:00 UTC" in said.text and "CST" in said.text


# --- the event moves --------------------------------------------------------------------

def moved(sim: Sim, start: str, end: str) -> None:
    """The champion edits the form's dates (as /reschedule would record them)."""
    sim.issue = replace(sim.issue, body=form_body(start=start, end=end))


def test_a_move_is_said_once_and_rearms_what_now_lies_ahead() -> None:
    sim = Sim(no_prewarm())
    sim.follow(OPENED, START - 10 * D)  # confirm-details, quotas and image reminded
    assert [ids for _, ids in reminded(sim)] == [["confirm-details"],
                                                ["cloud-quotas", "image-update"]]
    sim.ticked.add("confirm-details")
    moved(sim, "2027-03-30 13:00", "2027-03-30 16:00")  # three weeks later
    sim.run(START - 10 * D)
    [notice] = sim.said("The event moved")
    assert notice.text.startswith("📅 **The event moved** to 2027-03-30 18:00 UTC")
    assert sim.last is not None  # the engineers on call for the new date are told
    assert "@prof-okafor" in notice.text and all(f"@{a}" in notice.text
                                                  for a in sim.last.assignees)
    sim.follow(START - 10 * D + H, datetime(2027, 3, 30, 18, tzinfo=START.tzinfo))
    later = [(at, ids) for at, ids in reminded(sim) if at > START - 10 * D]
    # Quotas and image fall due again on their new dates and are reminded again; the
    # ticked item is not; nothing is said twice for one date.
    assert later[0] == (datetime(2027, 3, 16, 18, tzinfo=START.tzinfo),
                        ["cloud-quotas", "image-update"])
    assert all("confirm-details" not in ids for _, ids in later)
    assert len(sim.said("The event starts in 24 hours")) == 1
    assert len(sim.said("The event moved")) == 1


def test_a_move_to_an_earlier_date_does_not_repeat_reminders_now_overdue() -> None:
    sim = Sim(no_prewarm())
    sim.follow(OPENED, START - 13 * D)
    moved(sim, "2027-03-02 13:00", "2027-03-02 16:00")  # a week earlier
    sim.run(START - 13 * D)
    named = [i for _, ids in reminded(sim) for i in ids]
    # What was reminded stays reminded; what is now due for the first time is reminded.
    assert named == ["confirm-details", "cloud-quotas", "image-update", "image-freeze",
                     "node-pool"]
    assert len(sim.said("The event moved")) == 1


def test_nodes_readied_for_a_start_that_moved_away_are_given_back_at_once() -> None:
    sim = Sim(base_config())
    sim.follow(OPENED, START - H)
    assert [d.kind for _, d in sim.dispatches] == ["prewarm"]
    moved(sim, "2027-03-16 13:00", "2027-03-16 16:00")  # postponed by a week
    sim.run(START - H)
    assert [(at, d.kind, d.inputs["replicas"]) for at, d in sim.dispatches][1:] == [
        (START - H, "scale-down", "0")]
    new_start = START + 7 * D - H  # 13:00 CDT after the clocks changed
    sim.follow(START - H + timedelta(minutes=1), new_start)
    assert [(at, d.kind) for at, d in sim.dispatches][2:] == [
        (new_start - 2 * H, "prewarm")]


def test_nodes_stay_when_the_move_keeps_the_event_inside_the_lead_time() -> None:
    sim = Sim(base_config())
    sim.follow(OPENED, START - H)
    moved(sim, "2027-03-09 13:30", "2027-03-09 16:30")  # half an hour later
    sim.run(START - H)
    assert [d.kind for _, d in sim.dispatches] == ["prewarm"]


# --- who is told ------------------------------------------------------------------------

def test_a_tier_pending_again_is_said_to_the_leads_once() -> None:
    from bot.core.status import Approval

    sim = Sim(no_prewarm(), issue=make_issue(form_body(tier=option("tier", "premium"))))
    sim.run(OPENED)
    assert sim.said("asks for the") == []  # the first status comment cc's the leads
    sim.set_state(approval=Approval("premium", "lead-lee", "2026-11-24T10:00:00Z",
                                    "premium"))
    sim.run(OPENED + D)
    sim.issue = replace(sim.issue, body=form_body(tier=option("tier", "enhanced")))
    sim.run(OPENED + 2 * D)
    sim.run(OPENED + 3 * D)
    [notice] = sim.said("asks for the")
    assert notice.text.startswith("💳 @lead-lee: this request now asks for the `enhanced`")
    assert "/approve-tier" in notice.text


def test_reminders_go_to_the_leads_when_no_engineer_is_free() -> None:
    config = no_prewarm()
    away = tuple(replace(e, away=()) for e in config.oncall.engineers)
    from bot.core.config import AwayRange

    everyone_away = tuple(replace(e, away=(AwayRange(OPENED.date(), END.date()),))
                          for e in away)
    config = replace(config, oncall=replace(config.oncall, engineers=everyone_away))
    sim = Sim(config)
    sim.follow(OPENED, START - 20 * D)
    [(_, ids)] = reminded(sim)
    [reminder] = sim.said("**Reminder:**")
    assert sim.issue.assignees == ()
    assert "@lead-lee (no engineer is assigned yet)" in reminder.text


def test_the_community_s_own_item_is_reminded_to_the_representative_too() -> None:
    sim = Sim(no_prewarm())
    sim.follow(OPENED, START - 2 * D)
    [login_test] = [r for r in sim.said("**Reminder:**") if "login test" in r.text]
    assert "— @prof-okafor @" in login_test.text  # the representative, then the engineers
    others = [r for r in sim.said("**Reminder:**") if "login test" not in r.text]
    assert others and all("@prof-okafor" not in r.text for r in others)


# --- two requests on one hub ------------------------------------------------------------

HUB = "stat101.hubs.example.org"


def with_neighbour(sim: Sim, start: datetime, end: datetime, nodes: int) -> None:
    from bot.core.model import HubBooking

    other = HubBooking("jupyter-community/event-requests", 99, start, end, nodes)
    sim.issue = replace(sim.issue, hub_bookings={HUB: (other,)})


def replicas(sim: Sim) -> list[tuple[datetime, str, str]]:
    return [(at, d.kind, d.inputs["replicas"]) for at, d in sim.dispatches]


def test_a_scale_down_keeps_what_an_overlapping_request_on_the_hub_needs() -> None:
    sim = Sim(base_config())
    with_neighbour(sim, START + 2 * H, END + 2 * H, nodes=2)  # starts while ours runs
    sim.follow(OPENED, END + D)
    after = timedelta(hours=sim.config.prewarm.scale_down_after_hours)
    assert replicas(sim) == [(START - 2 * H, "prewarm", "4"),
                             (END + after, "scale-down", "2")]  # not 0 under the other


def test_a_prewarm_never_takes_the_hub_below_a_live_request_s_nodes() -> None:
    sim = Sim(base_config())
    with_neighbour(sim, START - 3 * H, START, nodes=5)  # running when ours pre-warms
    sim.follow(OPENED, START - H)
    assert replicas(sim) == [(START - 2 * H, "prewarm", "5")]


def test_requests_on_other_hubs_or_at_other_times_change_nothing() -> None:
    from bot.core.model import HubBooking

    sim = Sim(base_config())
    far = HubBooking("o/r", 98, START + 3 * D, END + 3 * D, 9)
    elsewhere = HubBooking("o/r", 97, START, END, 9)
    sim.issue = replace(sim.issue, hub_bookings={HUB: (far,), "bio.example.org": (elsewhere,)})
    sim.follow(OPENED, END + D)
    after = timedelta(hours=sim.config.prewarm.scale_down_after_hours)
    assert replicas(sim) == [(START - 2 * H, "prewarm", "4"), (END + after, "scale-down", "0")]


def test_a_representative_named_later_is_told_once() -> None:
    sim = Sim(no_prewarm())
    sim.run(OPENED)
    assert sim.said("you are named as the community representative") == []  # cc'd
    sim.issue = replace(sim.issue, body=form_body(community_rep="@prof-okafor, @ta-jones"))
    sim.run(OPENED + D)
    sim.run(OPENED + 2 * D)
    [notice] = sim.said("you are named as the community representative")
    assert notice.text.startswith("👋 @ta-jones:")  # only the new one


def test_a_state_from_before_the_notices_learns_them_quietly() -> None:
    """An upgrade must not tell every open request's people what they were told already."""
    sim = Sim(no_prewarm(), issue=make_issue(form_body(tier=option("tier", "premium"))))
    sim.run(OPENED)
    old = tuple(k for k in sim.state().sent
                if not k.startswith(("rep:", "pending:")) and k != lifecycle.NOTICES)
    sim.set_state(sent=old)  # as an older version wrote it
    sim.run(OPENED + D)
    assert sim.replies == []
    assert {"rep:prof-okafor", "pending:premium", lifecycle.NOTICES} <= set(sim.state().sent)


def name_reps(sim: Sim, *logins: str) -> None:
    sim.issue = replace(sim.issue, body=form_body(
        community_rep=", ".join(f"@{x}" for x in logins)))


NAMED = "you are named as the community representative"


def pinged(markdown: str) -> set[str]:
    """Logins a comment pings: not those in code spans or HTML comments."""
    import re

    bare = re.sub(r"`[^`\n]*`|<!--.*?-->", "", markdown, flags=re.DOTALL)
    return set(re.findall(r"(?<![\w`/])@([A-Za-z0-9][A-Za-z0-9-]*)", bare))


def test_representatives_named_again_and_again_get_a_few_notices_a_day_apart() -> None:
    from bot.core.mentions import MAX_REP_NOTICES, REP_NOTICE_COOL_DOWN

    sim = Sim(no_prewarm())
    sim.run(OPENED)
    for i in range(1, 100):  # a new name every hour for four days
        name_reps(sim, f"someone-{i}")
        sim.run(OPENED + i * H)
    notices = sim.said(NAMED)
    assert len(notices) == MAX_REP_NOTICES
    assert [n.at for n in notices] == [OPENED + H + k * REP_NOTICE_COOL_DOWN
                                       for k in range(MAX_REP_NOTICES)]
    assert sim.status is not None
    assert "@someone-99" not in pinged(sim.status.body)  # named, as text
    assert "`@someone-99`" in sim.status.body


def test_a_name_added_in_the_cool_down_is_told_when_it_ends() -> None:
    from bot.core.mentions import REP_NOTICE_COOL_DOWN

    sim = Sim(no_prewarm())
    sim.run(OPENED)
    name_reps(sim, "prof-okafor", "ta-jones")
    sim.run(OPENED + H)
    name_reps(sim, "prof-okafor", "ta-jones", "ta-kim")
    sim.run(OPENED + 2 * H)
    assert [n.at for n in sim.said(NAMED)] == [OPENED + H]
    assert sim.next_due(OPENED + 2 * H) == OPENED + H + REP_NOTICE_COOL_DOWN
    sim.run(OPENED + H + REP_NOTICE_COOL_DOWN)
    first, second = sim.said(NAMED)
    assert second.text.startswith("👋 @ta-kim:")


def test_one_notice_pings_a_few_people_and_the_rest_wait() -> None:
    from bot.core.mentions import MAX_MENTIONS, REP_NOTICE_COOL_DOWN

    many = [f"rep-{i}" for i in range(8)]
    sim = Sim(no_prewarm())
    sim.run(OPENED)
    name_reps(sim, *many)
    sim.run(OPENED + H)
    [notice] = sim.said(NAMED)
    assert pinged(notice.text) == set(many[:MAX_MENTIONS])
    sim.run(OPENED + H + REP_NOTICE_COOL_DOWN)
    assert pinged(sim.said(NAMED)[1].text) == set(many[MAX_MENTIONS:])


def test_the_first_status_comment_pings_a_few_and_names_the_rest() -> None:
    from bot.core.mentions import MAX_MENTIONS

    many = [f"rep-{i}" for i in range(8)]
    sim = Sim(no_prewarm(), issue=make_issue(form_body(
        community_rep=", ".join(f"@{x}" for x in many))))
    sim.run(OPENED)
    assert sim.status is not None
    body = sim.status.body
    assert {p for p in pinged(body) if p.startswith("rep-")} == set(many[:MAX_MENTIONS])
    assert all(f"`@{x}`" in body for x in many[MAX_MENTIONS:])


def test_the_state_keeps_only_the_representatives_named_now() -> None:
    sim = Sim(no_prewarm())
    sim.run(OPENED)
    for i in range(1, 50):
        name_reps(sim, f"someone-{i}", "prof-okafor")
        sim.run(OPENED + i * D)
    reps = sorted(k for k in sim.state().sent if k.startswith("rep:"))
    assert reps == ["rep:prof-okafor"]  # someone-49 came after the last notice: not told
    name_reps(sim)
    sim.run(OPENED + 60 * D)
    assert [k for k in sim.state().sent if k.startswith("rep:")] == []


def test_later_comments_ping_only_the_representatives_told() -> None:
    """A reminder or a move cannot carry a name the notices' caps kept quiet."""
    from bot.core.mentions import MAX_REP_NOTICES

    sim = Sim(no_prewarm())
    sim.run(OPENED)
    for i in range(1, MAX_REP_NOTICES + 1):
        name_reps(sim, f"someone-{i}")
        sim.run(OPENED + i * D)
    name_reps(sim, "never-told")
    sim.follow(OPENED + 10 * D, END + D)
    assert sim.said("**Reminder:**")
    assert all("never-told" not in pinged(r.text) for r in sim.replies)


# --- fixes from review ------------------------------------------------------------------

def test_a_request_closed_in_its_lead_time_and_reopened_is_prewarmed_again() -> None:
    sim = Sim(base_config())
    sim.follow(OPENED, START - 2 * H)
    sim.issue = replace(sim.issue, state="closed")
    sim.run(START - 90 * timedelta(minutes=1))
    sim.issue = replace(sim.issue, state="open")
    sim.run(START - 85 * timedelta(minutes=1))
    assert [d.kind for _, d in sim.dispatches] == ["prewarm", "scale-down", "prewarm"]
    assert sim.last is not None
    sim.run(START - 80 * timedelta(minutes=1))
    assert [d.kind for _, d in sim.dispatches][-1] == "prewarm"  # once, not again


def test_a_prewarm_given_back_before_the_event_is_not_ticked() -> None:
    from bot.core.model import RepoRef  # noqa: F401  (keeps imports local to the test)
    from bot.core.prewarm import done_items
    from bot.core.status import DispatchRecord, StatusState

    sim = Sim(base_config())
    sim.run(OPENED)
    assert sim.last is not None and sim.last.request is not None
    up = DispatchRecord("prewarm", "2027-03-09T17:00:00Z", {}, True)
    down = DispatchRecord("scale-down", "2027-03-09T17:30:00Z", {}, True)
    after = DispatchRecord("scale-down", "2027-03-09T22:30:00Z", {}, True)
    req, config = sim.last.request, sim.config
    assert done_items(StatusState(dispatches=(up,)), req, config) == {"prewarm"}
    assert done_items(StatusState(dispatches=(up, down)), req, config) == frozenset()
    assert done_items(StatusState(dispatches=(up, after)), req, config) == {"prewarm"}


def test_a_late_scale_down_keeps_a_request_whose_lead_time_opened_meanwhile() -> None:
    sim = Sim(base_config())
    later = END + timedelta(minutes=40) + 2 * H  # its lead time opens 40 min after our end
    with_neighbour(sim, later, later + 3 * H, nodes=7)
    sim.follow(OPENED, START - H)
    sim.run(END + timedelta(minutes=45))  # our scale-down runs late (a retry, a restart)
    assert replicas(sim)[-1] == (END + timedelta(minutes=45), "scale-down", "7")


def test_an_older_state_gets_the_tier_s_engineers_when_approved() -> None:
    from bot.core.status import Approval

    sim = Sim(no_prewarm(), issue=make_issue(form_body(
        event_type=option("event_type", "workshop"), tier=option("tier", "premium"))))
    sim.run(OPENED)
    assert len(sim.issue.assignees) == 1
    sim.set_state(rotation_size=None,  # as written before rotation_size was kept
                  approval=Approval("premium", "lead-lee", "2026-11-24T10:00:00Z", "premium"))
    sim.run(OPENED + D)
    assert len(sim.issue.assignees) == 2
