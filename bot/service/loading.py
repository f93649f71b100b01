"""Loading the config and its form for a command, saying each problem on stderr."""

from __future__ import annotations

import os
import sys

from ..core.config import Config, ConfigError, load_config
from ..core.forms import FormError, FormTemplate, load_form


def config_path(arg: str | None) -> str:
    return arg or os.environ.get("BOT_CONFIG") or "config.yaml"


def load_all(path: str) -> tuple[Config, FormTemplate]:
    config = load_config(path)
    try:
        form = load_form(config.form_path)
    except FormError as e:
        raise ConfigError([f"form: {e}"]) from None
    return config, form


def say_problems(error: ConfigError) -> int:
    """Each config problem as an ``error:`` line on stderr; the exit status for them."""
    for line in error.problems:
        print(f"error: {line}", file=sys.stderr)
    return 1


def load_or_say(arg: str | None) -> tuple[Config, FormTemplate] | None:
    """The config and its form, or None once every problem has been said."""
    try:
        return load_all(config_path(arg))
    except ConfigError as e:
        say_problems(e)
        return None
