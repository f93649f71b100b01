"""plan(issue, status, config, now) -> Desired: the whole decision, with no I/O.

A webhook, a command, a scheduler tick and a reconciliation pass all end
here; the shell then applies the difference between the issue as it is and
what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from . import confirm, lifecycle, text
from .checklist import ChecklistItem, checklist_for
from .config import Config
from .form_map import bound_form
from .forms import FormTemplate, parse_form_body
from .model import Desired, HubBooking, IssueSnapshot
from .oncall import OnCallPick, on_call_for
from .prewarm import done_items
from .prewarm_status import node_types_for
from .render import StatusView, TierView, render_status
from .request import DateOverride, EventRequest, FieldError, is_event_request, read_request
from .sizing import Sizing, SizingError, size_event
from .status import StatusComment, StatusState, form_value, with_tier_asked
from .triage import Triage, iso


def tier_view(request: EventRequest, state: StatusState, config: Config) -> TierView:
    requested = request.tier
    if state.decline is not None and state.decline.requested == requested:
        return TierView(requested, config.free_tier, "declined", decline=state.decline)
    if state.approval is not None and (
        state.approval.requested == requested or requested is None
    ):
        return TierView(requested, state.approval.tier, "approved", approval=state.approval)
    if requested is None:
        return TierView(None, None, "unknown")
    tier = config.tiers.get(requested)
    if tier is not None and tier.requires_approval:
        return TierView(requested, None, "pending")
    return TierView(requested, requested, "granted")


def bot_owned_labels(config: Config) -> frozenset[str]:
    labels = config.labels
    owned = {labels.event_request, labels.tier_pending, labels.needs_info,
             labels.short_notice, labels.cancelled, labels.done}
    owned |= {labels.type_label(t) for t in config.event_types}
    owned |= {labels.tier_label(t) for t in config.tiers}
    return frozenset(x.lower() for x in owned)


def wanted_labels(request: EventRequest, tier: TierView, state: StatusState,
                  errors: tuple[FieldError, ...], config: Config) -> tuple[str, ...]:
    labels = config.labels
    wanted = [labels.event_request, labels.type_label(request.event_type)]
    if tier.status == "pending":
        wanted.append(labels.tier_pending)
    elif tier.effective:
        wanted.append(labels.tier_label(tier.effective))
    if errors:
        wanted.append(labels.needs_info)
    if request.short_notice:
        wanted.append(labels.short_notice)
    if state.cancelled_by:
        wanted.append(labels.cancelled)
    if "follow-up" in state.sent:
        wanted.append(labels.done)
    return tuple(wanted)


def label_changes(issue: IssueSnapshot, wanted: tuple[str, ...], state: StatusState,
                  config: Config) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """-> (add, remove, labels the bot now owns on this issue).

    Only labels the bot added itself (recorded in the state) are ever removed,
    so a label a person set stays.
    """
    have = {label.lower(): label for label in issue.labels}
    wanted_lower = {w.lower() for w in wanted}
    add = frozenset(w for w in wanted if w.lower() not in have)
    added_before = {x.lower() for x in state.bot_labels}
    owned = bot_owned_labels(config)
    keep_always = config.labels.event_request.lower()
    remove = frozenset(
        label for low, label in have.items()
        if low in owned and low not in wanted_lower and low in added_before
        and low != keep_always
    )
    removed_lower = {r.lower() for r in remove}
    kept = {x.lower(): x for x in state.bot_labels if x.lower() not in removed_lower}
    kept.update({x.lower(): x for x in add})
    # A wanted label already there counts as the bot's too: a PATCH that landed before a
    # failed status-comment write would otherwise leave its labels unowned for good.
    kept.update({low: have[low] for low in wanted_lower if low in have})
    now_owned = tuple(sorted(kept.values(), key=str.lower))
    return add, remove, now_owned


def _override(state: StatusState, issue_start: str | None, issue_end: str | None
              ) -> DateOverride | None:
    """A /reschedule wins until the champion edits the form's dates."""
    r = state.reschedule
    if r is None:
        return None
    if (form_value(r.form_start) or None) != (form_value(issue_start) or None) or (
            form_value(r.form_end) or None) != (form_value(issue_end) or None):
        return None
    return DateOverride(r.start, r.end)


def overlapping(issue: IssueSnapshot, request: EventRequest, config: Config
                ) -> tuple[HubBooking, ...]:
    """The other live requests on this request's hub whose nodes overlap with its own
    (from the lead time before the start to the scale-down after the end)."""
    if not config.prewarm.enabled or request.start is None or request.end is None:
        return ()
    if not request.hub_host:
        return ()
    before = timedelta(hours=config.prewarm.lead_time_hours)
    after = timedelta(hours=config.prewarm.scale_down_after_hours)
    mine = (issue.repo.full_name.lower(), issue.number)
    return tuple(
        b for b in issue.hub_bookings.get(request.hub_host, ())
        if (b.repo.lower(), b.number) != mine
        # Any that still holds nodes after this one's lead time opens: a dispatch may run
        # later than planned (a retry, the bot down), so no upper bound here; the lifecycle
        # checks each booking against the moment it dispatches.
        and request.start - before < b.end + after)


@dataclass(frozen=True)
class Edit:
    """A change of the state made before the one plan of a sync (a command, a reopening)."""

    state: StatusState
    assignees: tuple[str, ...] | None = None  # the assignees it leaves; None: the issue's


def _asked_since(issue: IssueSnapshot, state: StatusState, now: datetime) -> datetime:
    # Which tier the form asked for, and since when: the first version the bot sees is
    # the one it was opened with; a later one dates from the edit (updated_at).
    return issue.created_at if not state.tiers_asked else (issue.updated_at or now)


def request_and_state(issue: IssueSnapshot, status: StatusComment | None, config: Config,
                      form: FormTemplate, now: datetime) -> tuple[EventRequest, StatusState]:
    """The request as the plan reads it, and the state with the form's tier recorded:
    what a command decides on, before the plan."""
    form = bound_form(form, config)  # the bot's field ids, whatever the form calls them
    state = status.state if status is not None else StatusState()
    parsed = parse_form_body(issue.body, form)
    request = read_request(issue, form, config,
                           override=_override(state, parsed.get("start"), parsed.get("end")),
                           parsed=parsed)
    return request, with_tier_asked(state, request.tier, _asked_since(issue, state, now))


def triage(issue: IssueSnapshot, status: StatusComment | None, config: Config,
           form: FormTemplate, now: datetime, assignees: tuple[str, ...] | None = None
           ) -> Triage:
    """Read the request and decide labels, assignees, sizing, checklist and the status text.

    ``assignees``: the ones a command left, when it changed them (else the issue's)."""
    form = bound_form(form, config)  # the bot's field ids, whatever the form calls them
    if not is_event_request(issue, form, config):
        return Triage(is_event_request=False)
    parsed = parse_form_body(issue.body, form)
    state = status.state if status is not None else StatusState()
    request = read_request(issue, form, config,
                           override=_override(state, parsed.get("start"), parsed.get("end")),
                           parsed=parsed)
    errors = list(request.errors)

    state = confirm.settle(issue, request, state, now)

    sizing: Sizing | None = None
    if request.attendees is not None:
        try:
            kind = config.event_types.get(request.event_type)
            sizing = size_event(request.attendees, request.memory_per_user_gib, config.sizing,
                                arrival_minutes=kind.arrival_minutes if kind else None,
                                node_types=node_types_for(request.hub_host, config,
                                                          issue.hub_index))
        except SizingError as e:
            field = "memory_per_user" if request.memory_per_user_gib is not None else None
            errors.append(FieldError(field, str(e)))

    tier = tier_view(request, state, config)
    cancelled = state.cancelled_by is not None
    pick: OnCallPick | None = None
    people = list(issue.assignees if assignees is None else assignees)
    new_state = with_tier_asked(state, request.tier, _asked_since(issue, state, now))
    if request.start is not None and request.end is not None and not request.start_in_past:
        # A paid tier that promises more engineers counts once it is in effect (approved,
        # or granted without approval), not while a lead has still to say yes.
        wanted = config.engineers_for(request.event_type, tier.effective)
        pick = on_call_for(request.start, request.end, wanted, config.oncall)
        start_key = iso(request.start)
        # A state from before rotation_size was kept was rotated for the event type's number.
        size = (state.rotation_size if state.rotation_size is not None
                else config.engineers_for(request.event_type))
        resized = state.rotation_start is not None and size != wanted
        if not cancelled and (state.rotation_start != start_key or resized):
            have = {a.lower() for a in people}
            previous = {e.lower() for e in state.rotation} - {e.lower() for e in pick.engineers}
            people = [a for a in people if a.lower() not in previous]
            people += [e for e in pick.engineers if e.lower() not in have]
            new_state = replace(new_state, rotation_start=start_key, rotation=pick.engineers,
                                rotation_size=wanted)

    checklist: tuple[ChecklistItem, ...] = ()
    if request.start is not None and request.end is not None and request.zone is not None:
        # per event, not per day: from the first session's start to the last one's end
        first, last = (request.sessions[0].start, request.sessions[-1].end) \
            if request.sessions else (request.start, request.end)
        checklist = checklist_for(request.event_type, first, last,
                                  request.zone.tz, config.checklist, tier.effective)

    all_errors = tuple(errors)
    labels = wanted_labels(request, tier, new_state, all_errors, config)
    _, _, owned = label_changes(issue, labels, new_state, config)
    new_state = replace(new_state, bot_labels=owned)

    # Other requests on the hub shape only the dispatches, not the status comment: it
    # stays a function of this issue alone, so reconciling in any order converges at once.
    overlaps = overlapping(issue, request, config)
    view = StatusView(
        issue=issue, request=request, tier=tier, sizing=sizing, pick=pick,
        assignees=tuple(people), checklist=checklist,
        ticked=ticked_items(status, request, new_state, config),
        errors=all_errors, state=new_state, form=form, now=now,
    )
    return Triage(
        is_event_request=True, request=request, tier=tier, sizing=sizing, pick=pick,
        checklist=checklist, labels=labels, assignees=tuple(people), errors=all_errors,
        state=new_state, comment=render_status(view, config), overlaps=overlaps,
        confirmed=confirm.is_confirmed(request, new_state),
    )


def ticked_items(status: StatusComment | None, request: EventRequest | None,
                 state: StatusState, config: Config) -> frozenset[str]:
    """The boxes ticked in the status comment, and the items the bot did itself."""
    ticked = status.ticked if status is not None else frozenset()
    return ticked | done_items(state, request, config)


def _with_claimed(edited: StatusState, issue: IssueSnapshot, status: StatusComment | None,
                  config: Config, form: FormTemplate, now: datetime) -> StatusState:
    """``edited`` owning the labels a plain sync of the issue would have claimed as the
    bot's: those it wants and finds there. A label the bot added whose status-comment
    write then failed (a fault between the two writes) is still the bot's to remove
    when the command changes what it wants (an approved tier's ``tier: pending``)."""
    request, before = request_and_state(issue, status, config, form, now)
    wanted = wanted_labels(request, tier_view(request, before, config), before,
                           request.errors, config)
    have = {label.lower(): label for label in issue.labels}
    claimed = [have[w.lower()] for w in wanted if w.lower() in have]
    if not claimed:
        return edited
    return replace(edited, bot_labels=tuple(dict.fromkeys((*edited.bot_labels, *claimed))))


def plan(issue: IssueSnapshot, status: StatusComment | None, config: Config,
         form: FormTemplate, now: datetime, edit: Edit | None = None
         ) -> tuple[Triage, Desired]:
    """Triage, then the difference from the issue as it is: nothing when nothing changed.

    ``edit``: what a command (or a reopening) changed first; planned from, and the one
    difference is still taken from the issue as GitHub has it."""
    if edit is not None:
        edit = replace(edit, state=_with_claimed(edit.state, issue, status, config, form, now))
        status = (replace(status, state=edit.state) if status is not None
                  else StatusComment(id=0, body="", state=edit.state, ticked=frozenset()))
    assignees = edit.assignees if edit is not None else None
    result = triage(issue, status, config, form, now, assignees)
    if not result.is_event_request:
        return result, Desired()
    # What the clock calls for (reminders, pre-warming, follow-up): its keys go into the
    # state first, so the status comment written with this plan records them.
    ticked = ticked_items(status, result.request, result.state, config)
    # No status comment yet (``id`` 0: one planned in this sync): the first one is posted.
    first = status is None or status.id == 0
    due = lifecycle.step(issue, result, ticked, config, now, first_comment=first)
    if due.sent or due.unsent:
        base = status if status is not None else StatusComment(0, "", StatusState(), ticked)
        marked = replace(base, state=base.state.with_sent(*due.sent).without_sent(*due.unsent))
        result = triage(issue, marked, config, form, now, assignees)
    add, remove, _ = label_changes(issue, result.labels, status.state if status else
                                   StatusState(), config)
    have = {a.lower() for a in issue.assignees}
    final = {a.lower() for a in result.assignees}
    assignees_add = tuple(a for a in result.assignees if a.lower() not in have)
    assignees_remove = tuple(a for a in issue.assignees if a.lower() not in final)
    # The one difference, also as the issue's whole lists: apply writes them as they are.
    labels: tuple[str, ...] | None = None
    if add or remove:
        drop = {x.lower() for x in remove}
        kept = [x for x in issue.labels if x.lower() not in drop]
        have_labels = {x.lower() for x in kept}
        labels = (*kept, *sorted(x for x in add if x.lower() not in have_labels))
    people: tuple[str, ...] | None = None
    if assignees_add or assignees_remove:
        gone = {x.lower() for x in assignees_remove}
        people = (*(x for x in issue.assignees if x.lower() not in gone), *assignees_add)
    body = result.comment
    if status is not None and body == status.body:
        body = None
    # The lifecycle's one decision also says when the scheduler next needs the request.
    result = replace(result, next_due=due.next_due)
    return result, Desired(
        labels_add=add, labels_remove=remove, assignees_add=assignees_add,
        assignees_remove=assignees_remove, labels=labels, assignees=people,
        status_body=body, replies=due.replies,
        dispatches=due.dispatches, close_reason=due.close_reason,
    )


class Reopening:
    """A person reopening a cancelled request: the cancellation is lifted before the plan.

    The issue closed by ``/cancel`` and opened again by someone means they want the
    event back; the status comment, labels, reminders and pre-warming follow, and one
    reply says so.
    """

    def __init__(self, by: str) -> None:
        self.by = by
        self.lifted = False

    def before(self, issue: IssueSnapshot, status: StatusComment | None) -> Edit | None:
        self.lifted = (status is not None and bool(status.state.cancelled_by)
                       and issue.state == "open")
        if status is None or not self.lifted:
            return None
        return Edit(replace(status.state, cancelled_by=None, cancelled_at=None))

    def after(self, issue: IssueSnapshot, status: StatusComment | None, triaged: Triage,
              desired: Desired) -> Desired:
        if not self.lifted:
            return desired
        if desired.status_body is None:  # the state changed, so the comment must too
            desired = replace(desired, status_body=triaged.comment)
        reply = (f"♻️ {text.mention(self.by)} reopened this request, so it is active "
                 "again: the checklist, its reminders and pre-warming are back on. "
                 "`/cancel` cancels it again.")
        return replace(desired, replies=(*desired.replies, reply))
