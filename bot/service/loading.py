"""Loading the config and its form from files, saying each problem on stderr."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

from ..core.config import Config, ConfigError, parse_config
from ..core.forms import FormError, FormTemplate, load_form


def config_path(arg: str | None) -> str:
    return arg or os.environ.get("BOT_CONFIG") or "config.yaml"


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; a missing or unparseable file is a ``ConfigError``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{path}: cannot be read ({e})"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError([f"{where}: not valid YAML ({getattr(e, 'problem', e)})"]) from None
    try:
        return parse_config(raw, base_dir=path.parent)
    except ConfigError as e:
        raise ConfigError([f"{path}: {line}" for line in e.problems]) from None


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
