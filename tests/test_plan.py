"""plan(): labels, tier states, rotation and the diff against the issue (pure, no network)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import pytest

from bot.core.forms import load_form, render_form_body
from bot.core.model import IssueSnapshot, RepoRef
from bot.core.plan import plan
from bot.core.status import Approval, Decline, Reschedule, StatusState, read_status
from bot.service.loading import load_config

CONFIG = load_config("config.yaml")
FORM = load_form(CONFIG.form_path)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def body(**answers: Any) -> str:
    base: dict[str, Any] = {
        "hub_url": "hub.example.org", "event_name": "Final exam",
        "event_type": "Exam or graded assessment", "start": "2027-02-01 09:00",
        "end": "2027-02-01 12:00", "timezone": "UTC", "attendees": "40",
        "memory_per_user": None, "tier": "premium", "community_rep": "@rep", "details": None,
    }
    base.update(answers)
    field = FORM.field("tier")
    assert field is not None
    base["tier"] = next((o for o in field.options if o.startswith(base["tier"])), base["tier"])
    return render_form_body(FORM, base)


def issue(labels: tuple[str, ...] = ("event-request",), assignees: tuple[str, ...] = (),
          **answers: Any) -> IssueSnapshot:
    return IssueSnapshot(repo=RepoRef("o", "r", 1), number=5, title="Request",
                         body=body(**answers), author="champ", labels=labels,
                         assignees=assignees, state="open", created_at=NOW)


def status_with(state: StatusState, i: IssueSnapshot) -> Any:
    """The status comment the bot would have posted, carrying STATE."""
    triage, _ = plan(i, None, CONFIG, FORM, NOW)
    from bot.core.status import MARKER, state_block

    assert triage.comment is not None
    text = triage.comment.split("<!-- event-support-bot:state")[0] + state_block(state)
    assert MARKER in text
    return read_status(text, 99)


@pytest.mark.parametrize(
    ("tier", "state", "label", "pending"),
    [
        ("standard", StatusState(), "tier: standard", False),
        ("premium", StatusState(), "tier: pending", True),
        ("premium", StatusState(approval=Approval("premium", "lead-lee", "2026-11-24", "premium")),
         "tier: premium", False),
        # A lead may approve another tier than the one asked for.
        ("premium", StatusState(approval=Approval("enhanced", "lead-lee", "2026-11-24",
                                                  "premium")), "tier: enhanced", False),
        # The champion asked for another tier after the approval: pending again.
        ("premium", StatusState(approval=Approval("enhanced", "lead-lee", "2026-11-24",
                                                  "enhanced")), "tier: pending", True),
        ("premium", StatusState(decline=Decline("lead-lee", "2026-11-24", "budget", "premium")),
         "tier: standard", False),
    ],
)
def test_tier_states(tier: str, state: StatusState, label: str, pending: bool) -> None:
    i = issue(tier=tier)
    status = status_with(state, i) if state != StatusState() else None
    triage, desired = plan(i, status, CONFIG, FORM, NOW)
    assert label in triage.labels
    assert ("@lead-lee" in (triage.comment or "").split("cc ")[-1]) == pending


def test_a_new_request_gets_everything_in_one_plan() -> None:
    triage, desired = plan(issue(), None, CONFIG, FORM, NOW)
    assert desired.labels_add == {"type: exam", "tier: pending"}
    assert len(desired.assignees_add) == 2  # exams get two engineers
    assert desired.status_body is not None and desired.replies == ()


def test_nothing_changes_when_nothing_changed() -> None:
    i = issue()
    triage, desired = plan(i, None, CONFIG, FORM, NOW)
    applied = replace(i, labels=(*i.labels, *sorted(desired.labels_add)),
                      assignees=desired.assignees_add)
    status = read_status(triage.comment or "", 99)
    _, again = plan(applied, status, CONFIG, FORM, NOW)
    assert again == type(again)()


def test_only_labels_the_bot_added_are_removed() -> None:
    i = issue()
    triage, desired = plan(i, None, CONFIG, FORM, NOW)
    status = read_status(triage.comment or "", 99)
    # A person adds short-notice; the champion makes the form invalid, then fixes it.
    labelled = replace(i, labels=(*i.labels, *desired.labels_add, "short-notice", "urgent"),
                       assignees=desired.assignees_add)
    broken = replace(labelled, body=body(attendees="TBD"))
    t2, d2 = plan(broken, status, CONFIG, FORM, NOW)
    assert d2.labels_add == {"needs-info"}
    assert d2.labels_remove == frozenset()
    status2 = read_status(t2.comment or "", 99)
    fixed = replace(labelled, labels=(*labelled.labels, "needs-info"))
    _, d3 = plan(fixed, status2, CONFIG, FORM, NOW)
    assert d3.labels_remove == {"needs-info"}  # the bot's own, and only that


def test_reschedule_moves_the_rotation_and_keeps_people_assignments() -> None:
    i = issue(event_type="Workshop, tutorial or class")
    triage, desired = plan(i, None, CONFIG, FORM, NOW)
    first = desired.assignees_add
    assert len(first) == 1
    applied = replace(i, labels=(*i.labels, *desired.labels_add),
                      assignees=(*first, "helper-person"))
    state = replace(triage.state, reschedule=Reschedule(
        "2027-03-15 09:00", "2027-03-15 12:00", "champ", "2026-11-24", "2027-02-01 09:00",
        "2027-02-01 12:00"))
    status = status_with(state, applied)
    t2, d2 = plan(applied, status, CONFIG, FORM, NOW)
    assert t2.request is not None and t2.request.start is not None
    assert t2.request.start.month == 3
    assert "helper-person" not in d2.assignees_remove
    if t2.pick and t2.pick.engineers != first:
        assert set(d2.assignees_remove) == set(first)


@pytest.mark.parametrize(("edited", "moved"), [(False, True), (True, False)])
def test_a_reschedule_over_a_huge_form_date_keeps_a_digest_of_it(edited: bool, moved: bool
                                                                 ) -> None:
    """The form's dates as written are kept to see a later edit: a stranger's 60,000
    characters are kept as a digest, and an edit still wins over the reschedule."""
    from bot.core.status import state_block

    huge = "2027-02-01 09:00 " + "x" * 60_000
    i = issue(start=huge)
    triage, _ = plan(i, None, CONFIG, FORM, NOW)
    state = replace(triage.state, reschedule=Reschedule(
        "2027-03-15T09:00:00Z", "2027-03-15T12:00:00Z", "lead-lee", "2026-11-24", huge,
        "2027-02-01 12:00"))
    assert len(state_block(state)) < 1_000
    status = status_with(state, i)
    now = issue(start=huge + ("y" if edited else ""))
    t2, _ = plan(now, status, CONFIG, FORM, NOW)
    assert t2.comment is not None and len(t2.comment) < 65_536
    assert t2.request is not None
    assert (t2.request.start is not None and t2.request.start.month == 3) is moved


def test_a_non_event_issue_plans_nothing() -> None:
    i = IssueSnapshot(repo=RepoRef("o", "r"), number=1, title="Bug", body="It broke",
                      author="x", labels=(), assignees=(), state="open", created_at=NOW)
    triage, desired = plan(i, None, CONFIG, FORM, NOW)
    assert not triage.is_event_request and desired == type(desired)()


def _applied(i: IssueSnapshot, state: StatusState | None = None) -> tuple[IssueSnapshot, Any]:
    """The issue after the bot's first plan landed, and its status comment (with STATE)."""
    triage, desired = plan(i, None, CONFIG, FORM, NOW)
    landed = replace(i, labels=(*i.labels, *sorted(desired.labels_add)),
                     assignees=desired.assignees_add)
    status = status_with(state if state is not None else triage.state, landed)
    return landed, status


def _approved(state: StatusState, tier: str) -> StatusState:
    return replace(state, approval=Approval(tier, "lead-lee", "2026-11-24", tier))


@pytest.mark.parametrize(("approved", "engineers", "qos"), [
    (None, 1, False),          # premium asked for, not approved yet: the demo's one engineer
    ("premium", 2, True),      # approved: the tier's two, and the exam-grade items
    ("enhanced", 1, False),    # a lead approved less than was asked
])
def test_a_paid_tier_brings_its_engineers_and_items_once_in_effect(
        approved: str | None, engineers: int, qos: bool) -> None:
    demo = issue(event_type="Demo", tier="premium")
    landed, first = _applied(demo)
    assert len(landed.assignees) == 1
    state = _approved(first.state, approved) if approved else first.state
    status = status_with(state, landed)
    triage, desired = plan(landed, status, CONFIG, FORM, NOW)
    assert len(triage.assignees) == engineers
    assert set(landed.assignees) <= set(triage.assignees)  # the first engineer stays
    assert len(desired.assignees_add) == engineers - 1
    ids = {item.id for item in triage.checklist}
    assert ("guaranteed-qos" in ids) == qos and ("access-test" in ids) == qos
    # Applied, the plan is settled: the rotation is not redone on the next sync.
    again = replace(landed, assignees=triage.assignees)
    settled = status_with(triage.state, again)
    _, after = plan(again, settled, CONFIG, FORM, NOW)
    assert after.assignees_add == () and after.assignees_remove == ()


def test_a_person_removing_a_rotation_engineer_is_not_overruled() -> None:
    demo = issue(event_type="Demo", tier="premium")
    landed, first = _applied(demo)
    state = _approved(first.state, "premium")
    triage, _ = plan(landed, status_with(state, landed), CONFIG, FORM, NOW)
    [added] = [a for a in triage.assignees if a not in landed.assignees]
    # A lead swaps the added engineer for someone else by hand.
    swapped = replace(landed, assignees=(*landed.assignees, "volunteer"))
    _, desired = plan(swapped, status_with(triage.state, swapped), CONFIG, FORM, NOW)
    assert added not in desired.assignees_add and desired.assignees_remove == ()


def test_a_multi_day_event_with_daily_hours_has_its_checklist_once() -> None:
    """Items stay per event; the on-call watch follows the first session, which starts at
    the daily hours even when the start box says earlier, and the scale-down the last."""
    triage, _ = plan(issue(start="2027-02-01 07:00", end="2027-02-03 17:00",
                           timezone="Europe/Berlin", daily_hours="9am-1pm"),
                     None, CONFIG, FORM, NOW)
    assert triage.errors == () and triage.request is not None
    assert len(triage.request.sessions) == 3
    due = {item.id: item.due for item in triage.checklist}
    assert len(due) == len(triage.checklist)  # no item twice
    assert due["oncall-watch"] == datetime(2027, 2, 1, 8, 0, tzinfo=timezone.utc)
    assert due["scale-down"] == datetime(2027, 2, 4, 12, 0, tzinfo=timezone.utc)


def test_a_command_after_a_lost_status_write_still_removes_the_bots_label() -> None:
    """The first sync's label PATCH landed and its status-comment write failed (a fault
    between the two), so no state records ``tier: pending`` as the bot's. A lead's
    approval planned next removes it all the same: a plain sync would have claimed it."""
    from bot.core.plan import Edit

    from .lifecycle_sim import FORM, OPENED, base_config, form_body, make_issue
    from .requests_seed import option

    config = base_config()
    issue = make_issue(form_body(tier=option("tier", "enhanced")))
    first, _ = plan(issue, None, config, FORM, OPENED)
    assert "tier: pending" in first.labels
    landed = replace(issue, labels=first.labels)  # the PATCH landed; no status comment
    approved = StatusState(approval=Approval("enhanced", "lead-lee", "2026-11-23T10:00:00Z",
                                             "enhanced"))
    triaged, desired = plan(landed, None, config, FORM, OPENED, Edit(approved))
    assert "tier: pending" in desired.labels_remove
    assert desired.labels is not None and "tier: pending" not in desired.labels
    assert "tier: enhanced" in desired.labels
    assert read_status(triaged.comment or "").state.bot_labels  # now recorded as the bot's
