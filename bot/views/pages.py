"""The views' Jinja2 templates (``bot/views/templates``), every value escaped by default."""

from __future__ import annotations

from typing import Any

import jinja2
from markupsafe import Markup

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.views", "templates"),
    # Everything shown comes from strangers' issues: escaped unless a template says not.
    autoescape=jinja2.select_autoescape(["html", "svg"], default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(name: str, **values: Any) -> Markup:
    """A template filled in; safe to put in another page as it is."""
    return Markup(_ENV.get_template(name).render(**values))
