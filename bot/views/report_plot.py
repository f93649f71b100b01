"""``report --plot``: the dashboard's monthly chart as a standalone SVG file, or a PNG.

The SVG is the chart the dashboard draws (``chart_svg``), so the two never
disagree; the file carries its own namespace, styles and legend, so any browser
or image tool opens it. A ``.png`` (the contract's ``--plot FILE.png``) is drawn
with matplotlib, an optional extra (``pip install '.[plot]'``) that only this
needs, so the bot itself does not carry a plotting library.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path

from ..core.config import EVENT_TYPES
from .chart import chart_svg
from .report_format import CHART_COLOURS

_STYLE = ("<style>.grid{stroke:#d0d7de;stroke-width:1}text{font:11px sans-serif;fill:#57606a}"
          ".value,.title{fill:#1f2328}.title{font-size:13px}</style>")


class PlotError(ValueError):
    """A chart file the report cannot write (the message says what to do)."""


def _matplotlib_missing() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return True
    return False


def check_plot_path(path: str) -> Path:
    """``FILE.svg``, or ``FILE.png`` where matplotlib is installed; anything else is
    refused before the report is read."""
    name = path.lower()
    if name.endswith(".png"):
        if _matplotlib_missing():
            raise PlotError(f"--plot {path!r}: a PNG needs the plotting extra "
                            "(pip install '.[plot]'); or name the file FILE.svg")
        return Path(path)
    if not name.endswith(".svg"):
        raise PlotError(f"--plot {path!r}: name the file FILE.svg or FILE.png")
    return Path(path)


def chart_file(by_month: Mapping[str, Mapping[str, int]], title: str) -> str:
    """The whole SVG document: the dashboard's bars, a title and a legend."""
    drawn = chart_svg(by_month) if by_month else ""
    bars = drawn[:drawn.find("</svg>")] if "<svg" in drawn else ""
    width, height = 320, 250
    if bars:
        head, _, inner = bars.partition(">")
        # The dashboard's viewBox gives the width the bars need.
        width = max(width, int(float(head.split('viewBox="0 0 ', 1)[1].split()[0])))
    else:
        inner = '<text x="28" y="110">No requests in the period.</text>'
    types = [t for t in EVENT_TYPES if any(c.get(t) for c in by_month.values())]
    legend = "".join(
        f'<rect x="{28 + i * 90}" y="{height - 14}" width="10" height="10" '
        f'fill="{CHART_COLOURS.get(t, "#888888")}"/>'
        f'<text x="{42 + i * 90}" y="{height - 5}">{escape(t)}</text>'
        for i, t in enumerate(types))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 20}" '
            f'viewBox="0 -20 {width} {height + 20}" role="img">{_STYLE}'
            f'<text x="28" y="-4" class="title">{escape(title)}</text>'
            f"{inner}{legend}</svg>\n")


def write_chart(by_month: Mapping[str, Mapping[str, int]], path: Path, title: str) -> None:
    if path.suffix.lower() == ".png":
        plot_png(by_month, path, title)
    else:
        path.write_text(chart_file(by_month, title), encoding="utf-8")


def plot_png(by_month: Mapping[str, Mapping[str, int]], path: Path, title: str) -> None:
    """The monthly chart, stacked by type, as a PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    months = list(by_month)
    types = [t for t in EVENT_TYPES if any(c.get(t) for c in by_month.values())] or ["other"]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(months) + 2), 4), dpi=100)
    try:
        bottom = [0] * len(months)
        for t in types:
            values = [by_month[m].get(t, 0) for m in months]
            ax.bar(months, values, bottom=bottom, label=t, color=CHART_COLOURS.get(t, "#888888"))
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_title(title)
        ax.set_ylabel("requests")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.tick_params(axis="x", labelrotation=45)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
