"""What a first deployment would otherwise find out in production (pure; ``check-config``).

Each problem is one line an operator can act on: nobody on the rotation, every
engineer away on some of the coming days, a tier the form offers at no price.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from .config import Config
from .form_map import bound_form
from .forms import FormTemplate
from .request import read_tier

LOOKAHEAD_DAYS = 21  # "the coming weeks": the default notice period


def rotation_problems(config: Config, today: date, days: int = LOOKAHEAD_DAYS) -> list[str]:
    """Nobody on the rotation, or days within ``days`` of ``today`` when everyone is away."""
    engineers = config.oncall.engineers
    if not engineers:
        return ["oncall.engineers: nobody is on the rotation, so no request would be "
                "assigned an engineer; list the engineers' logins"]
    empty = [today + timedelta(days=n) for n in range(days)
             if all(any(a.start <= today + timedelta(days=n) <= a.end for a in e.away)
                    for e in engineers)]
    if not empty:
        return []
    if len(empty) == days:
        return [f"oncall.engineers: every engineer is away for the next {days} days "
                f"({empty[0]} to {empty[-1]}), so no request then would be assigned anyone"]
    spans = _spans(empty)
    shown = ", ".join(a.isoformat() if a == b else f"{a} to {b}" for a, b in spans[:3])
    return [f"oncall.engineers: every engineer is away on {shown} (within the next {days} "
            "days), so a request then would be assigned nobody"]


def _spans(days: list[date]) -> list[tuple[date, date]]:
    spans: list[tuple[date, date]] = []
    for day in days:
        if spans and spans[-1][1] + timedelta(days=1) == day:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


def unpriced_tier_problems(form: FormTemplate, config: Config, priced: Collection[str],
                           form_name: str) -> list[str]:
    """Each tier the form offers (its options, else ``default_tier``) whose config sets
    neither ``price_usd`` nor ``price_per_hour_usd`` (``priced``: the tiers that do)."""
    field = bound_form(form, config).field("tier")
    offered: list[str] = []
    if field is not None:
        for option in field.options:
            name, _ = read_tier(option, config)
            if name is not None and name not in offered:
                offered.append(name)
    elif config.default_tier:
        offered.append(config.default_tier)
    return [f"tiers.{name}: offered by {form_name} but has no price; set price_usd (0 for "
            "a free tier) or price_per_hour_usd" for name in offered if name not in priced]
