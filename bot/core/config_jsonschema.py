"""The published JSON Schemas of ``config.yaml`` and a repository's ``.github/event-bot.yml``,
generated from the models that validate them (``python -m bot schema --write`` writes them
into ``schemas/``; a test fails when the committed files differ)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .config_schema import REPOSITORY_KEYS, ConfigFile

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"


def _referenced(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> set[str]:
    """The ``$defs`` names ``schema`` reaches, directly or through other definitions."""
    found: set[str] = set()
    todo: list[Any] = [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name not in found:
                    found.add(name)
                    todo.append(defs.get(name, {}))
            todo.extend(v for k, v in node.items() if k != "$defs")
        elif isinstance(node, list):
            todo.extend(node)
    return found


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema of the deployment's ``config.yaml``."""
    return {"$schema": SCHEMA_URL, **ConfigFile.model_json_schema(by_alias=True)}


def repository_json_schema() -> dict[str, Any]:
    """The JSON Schema of a repository's ``.github/event-bot.yml``: only the keys it may set."""
    whole = config_json_schema()
    properties = {k: v for k, v in whole["properties"].items() if k in REPOSITORY_KEYS}
    schema: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "title": "event-support bot .github/event-bot.yml (a repository's own config)",
        "description": "Merged over the deployment's config.yaml: mappings key by key, lists "
                       "and values replaced whole. Other keys are the deployment's.",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    defs = whole.get("$defs", {})
    used = _referenced(schema, defs)
    if used:
        schema["$defs"] = {name: defs[name] for name in sorted(used)}
    return schema


def schema_files() -> dict[str, str]:
    """The published files (``schemas/``) as text: what ``schema --write`` writes."""
    def text(schema: Mapping[str, Any]) -> str:
        return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return {"config.schema.json": text(config_json_schema()),
            "event-bot.schema.json": text(repository_json_schema())}
