"""The chart of requests per month by type, drawn as inline SVG (no scripts, no library).

``chart_svg`` lays the bars out here and ``templates/chart.svg`` draws them; the
dashboard shows it, and the report can write the same chart to a file. This module
reads nothing and imports no other view, so either can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from ..core.config import EVENT_TYPES
from .pages import render

# One colour per event type, the same in every drawing of the chart.
CHART_COLOURS = {"exam": "#d93f0b", "workshop": "#0e8a16", "demo": "#5319e7",
                 "other": "#6a737d"}


@dataclass(frozen=True)
class ChartData:
    by_month: Mapping[str, Mapping[str, int]]
    built: datetime
    scope: str  # what it counts, said under the chart


@dataclass(frozen=True)
class _Rect:
    x: int
    y: str
    height: str
    fill: str
    title: str


@dataclass(frozen=True)
class _Text:
    x: str
    y: str
    text: str
    css: str
    anchor: str


def _month_label(month: str) -> str:
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return names[int(month[5:7]) - 1]


def chart_types(by_month: Mapping[str, Mapping[str, int]]) -> list[str]:
    """The event types with at least one request in the chart, in the config's order."""
    return [t for t in EVENT_TYPES if any(c.get(t) for c in by_month.values())]


def chart_svg(by_month: Mapping[str, Mapping[str, int]]) -> Markup:
    """Stacked bars per month, by type, as inline SVG (each bar has a hover title)."""
    months = list(by_month)
    if not months:
        return render("chart.svg", months=False)
    types = chart_types(by_month) or ["other"]
    top = max(1, max(sum(c.values()) for c in by_month.values()))
    bar, gap, left, height, base = 28, 10, 28, 160, 180
    width = left + len(months) * (bar + gap) + gap
    step = max(1, -(-top // 4))
    grid = [f"{base - tick * height / top:.1f}" for tick in range(0, top + 1, step)]
    ticks = [(_Text(f"{left - 6}", f"{base - tick * height / top + 4:.1f}", str(tick), "axis",
                    "end"), y) for tick, y in zip(range(0, top + 1, step), grid, strict=True)]
    shapes: list[_Rect | _Text] = []
    for n, month in enumerate(months):
        x = left + gap + n * (bar + gap)
        y = float(base)
        for t in types:
            count = by_month[month].get(t, 0)
            if not count:
                continue
            h = count * height / top
            y -= h
            shapes.append(_Rect(x, f"{y:.1f}", f"{h:.1f}", CHART_COLOURS.get(t, "#888888"),
                                f"{month} {t}: {count}"))
        middle = f"{x + bar / 2}"
        total = sum(by_month[month].values())
        if total:
            shapes.append(_Text(middle, f"{y - 4:.1f}", str(total), "value", "middle"))
        shapes.append(_Text(middle, f"{base + 16}", _month_label(month), "axis", "middle"))
        if n == 0 or month.endswith("-01"):
            shapes.append(_Text(middle, f"{base + 30}", month[:4], "axis", "middle"))
    legend = [(t, CHART_COLOURS.get(t, "#888")) for t in types]
    return render("chart.svg", months=True, width=width, left=left, bar=bar, ticks=ticks,
                  shapes=shapes, legend=legend)
