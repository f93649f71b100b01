"""Confirmed requests, pure: who vouches for a request, and what waits until someone does."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.confirm import body_digest, covers, edit_trust, is_confirmed
from bot.core.model import Trust
from bot.core.prewarm import PREWARM, SCALE_DOWN
from bot.core.status import Confirmation, StatusState, decode_state, encode_state
from bot.service.index import booking, entry_from

from .lifecycle_sim import END, OPENED, Sim, base_config, form_body, make_issue

H = timedelta(hours=1)
D = timedelta(days=1)
OTHER_HUB = "https://stat102.hubs.example.org"


def _stranger_sim() -> Sim:
    return Sim(base_config(), issue=make_issue(trusted=False))


def _confirm(sim: Sim, by: str = "maint") -> None:
    """What ``/confirm`` leaves in the state: the request as it reads now, vouched for."""
    sim.run(OPENED)
    assert sim.last is not None and sim.last.request is not None
    sim.set_state(confirmation=Confirmation(by, "2026-11-23T10:00:00Z",
                                            covers(sim.last.request)))


def test_a_strangers_request_is_triaged_but_never_prewarmed() -> None:
    sim = _stranger_sim()
    sim.follow(OPENED, END + 2 * D)
    assert sim.dispatches == []
    assert sim.last is not None and not sim.last.confirmed
    assert sim.said("Reminder")  # reminded as any request
    assert sim.status is not None and "awaiting confirmation" in sim.status.body


def test_a_confirmed_strangers_request_is_prewarmed_and_scaled_down() -> None:
    sim = _stranger_sim()
    _confirm(sim)
    sim.follow(OPENED, END + 2 * D)
    assert [d.kind for _, d in sim.dispatches] == [PREWARM, SCALE_DOWN]
    assert sim.status is not None and "✅ by `@maint`" in sim.status.body


def test_the_first_reminder_asks_the_engineers_to_confirm_once() -> None:
    sim = _stranger_sim()
    sim.follow(OPENED, END + 2 * D)
    asked = sim.said("awaits confirmation")
    assert len(asked) == 1 and "/confirm" in asked[0].text and "Reminder" in asked[0].text
    confirmed = Sim(base_config())
    confirmed.follow(OPENED, END + 2 * D)
    assert confirmed.said("awaits confirmation") == []


@pytest.mark.parametrize(("trust", "edit", "confirmed_by"), [
    # Nobody vouched: the stranger's new hub awaits confirmation.
    (Trust(), True, None),
    # The stranger's edit named a writer in the text: text is never trust.
    (Trust(editor=None), True, None),
    # A writer's edit of the confirmed request: confirmed anew, by them.
    (Trust(editor="maint"), True, "maint"),
    # A writer's edit whose body is not the one planned (someone edited since): not vouched.
    (Trust(editor="maint", edited_to="something else"), True, None),
    # The author is a writer: confirmed as it reads.
    (Trust(author=True), True, "champion"),
    # No edit at all: the confirmation stands.
    (Trust(), False, "lead"),
])
def test_who_an_edit_of_the_hub_leaves_confirmed(trust: Trust, edit: bool,
                                                 confirmed_by: str | None) -> None:
    sim = _stranger_sim()
    _confirm(sim, "lead")
    before = sim.issue.body
    after = form_body(hub_url=OTHER_HUB) if edit else before
    if trust.editor:
        facts = edit_trust(trust.editor, replace(sim.issue, body=before), after, sim.form,
                           sim.config)
        trust = replace(facts, edited_to=(body_digest(trust.edited_to) if trust.edited_to
                                          else facts.edited_to))
    sim.issue = replace(sim.issue, body=after, trust=trust)
    sim.run(OPENED + H)
    assert sim.last is not None and sim.last.request is not None
    state = sim.state()
    got = state.confirmation.by if is_confirmed(sim.last.request, state) and \
        state.confirmation else None
    assert got == confirmed_by
    assert sim.last.confirmed == (confirmed_by is not None)


def test_a_writers_edit_of_an_unconfirmed_request_does_not_confirm_it() -> None:
    sim = _stranger_sim()
    sim.run(OPENED)
    before = sim.issue.body
    after = form_body(hub_url=OTHER_HUB)
    sim.issue = replace(sim.issue, body=after,
                        trust=edit_trust("maint", replace(sim.issue, body=before), after,
                                         sim.form, sim.config))
    sim.run(OPENED + H)
    assert sim.last is not None and not sim.last.confirmed


def test_a_stranger_moving_the_dates_puts_it_back_to_awaiting() -> None:
    sim = _stranger_sim()
    _confirm(sim)
    sim.issue = replace(sim.issue, body=form_body(start="2027-03-08 13:00",
                                                  end="2027-03-08 16:00"))
    sim.follow(OPENED + H, END + 2 * D)
    assert sim.dispatches == []


def test_an_unconfirmed_request_books_nothing_on_its_hub() -> None:
    for trusted in (False, True):
        sim = Sim(base_config(), issue=make_issue(trusted=trusted))
        sim.run(OPENED)
        assert sim.last is not None
        entry = entry_from(sim.issue, sim.last, frozenset())
        assert entry is not None
        assert (booking(entry) is not None) == trusted


def test_the_confirmation_survives_the_state_block_and_junk_is_dropped() -> None:
    state = StatusState(confirmation=Confirmation("maint", "2026-11-23T10:00:00Z", "ab" * 16))
    assert decode_state(encode_state(state)).confirmation == state.confirmation
    junk = replace(state, confirmation=Confirmation("maint", 5, "x"))  # type: ignore[arg-type]
    assert decode_state(encode_state(junk)).confirmation is None

