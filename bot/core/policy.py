"""``python -m bot policy``: the support offering, rendered from config as Markdown.

The team defines its event-support policy once, in config, and publishes
this page (at ``policy_url``); the status comment and ``/help`` link to it,
so every champion reads the same tiers, prices, notice period and
checklist the bot itself works from.
"""

from __future__ import annotations

from .config import EVENT_TYPES, ChecklistItemConfig, Config, DueOffset

_PHASES = ("before", "during", "after")


def _esc(value: str) -> str:
    """Operator text in a Markdown table cell or list item: one line, no stray pipes."""
    return " ".join(value.split()).replace("|", "\\|")


def _money(value: float) -> str:
    if not value:
        return "free"
    return f"${value:,.2f}" if value != int(value) else f"${value:,.0f}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def phase(item: ChecklistItemConfig) -> str:
    """Before the start, while the event runs, or after its end."""
    due = item.due
    if item.after_event or (due.anchor == "end" and due.amount > 0):
        return "after"
    if due.anchor == "start" and due.amount < 0:
        return "before"
    return "during"


def when_text(due: DueOffset) -> str:
    amount = abs(due.amount)
    unit = {"d": "day", "h": "hour"}[due.unit]
    anchor = "start" if due.anchor == "start" else "end"
    if amount == 0:
        return f"at the {anchor}"
    side = "before" if due.amount < 0 else "after"
    return f"{_plural(amount, unit)} {side} the {anchor}"


def _types_text(item: ChecklistItemConfig) -> str:
    if set(EVENT_TYPES) <= set(item.types):
        return ""
    return " (" + ", ".join(f"{t}s" for t in item.types) + " only)"


def _hours(value: float) -> str:
    return _plural(int(value), "hour") if value == int(value) else f"{value:g} hours"


def render_policy(config: Config) -> str:
    """The whole policy page (pure)."""
    lines = [
        "# Event support policy",
        "",
        "We support exams, workshops, demos and other events on our hubs. Open an "
        "**event request** (the issue form in your hub's repository) and the bot assigns "
        "engineers, sizes the cluster for your peak and tracks a checklist with you.",
        "",
        "## Notice",
        "",
        f"Open the request at least **{_plural(config.notice_days, 'day')}** before the event "
        "starts. Requests with less notice are marked `"
        f"{config.labels.short_notice}`: we do what we can, but some checklist items will "
        "already be due.",
        "",
        "## Support tiers",
        "",
        "| Tier | Price per event | Approval | What it is |",
        "|---|---|---|---|",
    ]
    for tier in config.tiers.values():
        approval = "a team lead approves it" if tier.requires_approval else "none needed"
        lines.append(f"| **{_esc(tier.name)}** | {_money(tier.price_usd)} | {approval} | "
                     f"{_esc(tier.description) or '—'} |")
    lines.append("")
    for tier in config.tiers.values():
        if not tier.includes:
            continue
        lines += [f"### {_esc(tier.name)}", ""]
        lines += [f"- {_esc(x)}" for x in tier.includes]
        lines.append("")
    if config.default_tier or config.tiers:
        free = config.free_tier
        lines += [
            f"A paid tier is confirmed once a team lead approves it (`/approve-tier`); until "
            f"then the request is labelled `{config.labels.tier_pending}`. A declined request "
            f"goes ahead on `{free}`.",
            "",
        ]
    lines += ["## Engineers", ""]
    rotation = config.oncall
    lines.append(
        f"Engineers come from an on-call rotation ({rotation.shift_days}-day shifts, "
        f"{_plural(len(rotation.engineers), 'engineer')}); the ones on call when the "
        "event starts are assigned:")
    lines.append("")
    for name in EVENT_TYPES:
        wanted = config.engineers_for(name)
        lines.append(f"- {name}: {_plural(wanted, 'engineer')}")
    for tier in config.tiers.values():
        if tier.engineers > 1:
            lines.append(f"- any event on **{_esc(tier.name)}**: at least "
                         f"{_plural(tier.engineers, 'engineer')}, once the tier is approved")
    lines.append("")

    prewarm = config.prewarm
    lines += ["## Pre-warming", ""]
    if prewarm.enabled:
        lines.append(
            f"The cluster is pre-warmed automatically {_hours(prewarm.lead_time_hours)} before "
            "the start (placeholder pods hold nodes for the users expected to arrive at once) "
            f"and scaled down {_hours(prewarm.scale_down_after_hours)} after the end, or at "
            "once when the event is cancelled. `/prewarm` does it on demand.")
    else:
        lines.append("An engineer pre-warms the cluster before the start (see the checklist); "
                     "placeholder pods hold nodes for the users expected to arrive at once.")
    lines.append("")

    exam_items = [i for i in config.checklist if "exam" in i.types
                  and not set(EVENT_TYPES) <= set(i.types)]
    lines += ["## Exams", ""]
    lines.append(f"Exams get {_plural(config.engineers_for('exam'), 'engineer')} on call"
                 + ((", and these exam steps (other events get one only on the tier it names):"
                     if any(i.tiers for i in exam_items) else ", and these exam-only steps:")
                    if exam_items else "."))
    if exam_items:
        lines.append("")
        for i in exam_items:
            also = (f" (also on {', '.join(f'**{_esc(t)}**' for t in i.tiers)})"
                    if i.tiers else "")
            lines.append(f"- {_esc(i.text)} — {when_text(i.due)}{also}")
    lines.append("")

    lines += ["## What happens when", ""]
    for name in _PHASES:
        items = [i for i in config.checklist if phase(i) == name]
        if not items:
            continue
        title = {"before": "Before the event", "during": "During the event",
                 "after": "After the event"}[name]
        lines += [f"### {title}", ""]
        lines += [f"- {_esc(i.text)} — {when_text(i.due)}{_types_text(i)}" for i in items]
        lines.append("")
    if config.debrief_questions:
        lines += ["After the event we ask:", ""]
        lines += [f"- {_esc(q)}" for q in config.debrief_questions]
        lines.append("")
    lines += ["## Commands", "",
              "In a comment on the request: `/approve-tier [NAME]` and `/decline-tier [REASON]` "
              "(team leads), `/assign`, `/unassign`, `/reschedule START [END]`, `/cancel`, "
              "`/checklist`, `/prewarm [NODES]`, `/help`.", ""]
    if config.policy_url:
        lines += [f"_This page is published at {config.policy_url}._", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
