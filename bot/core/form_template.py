"""The issue form's template: reading a form YAML file as GitHub does (pure but for
``load_form``, which reads the file).

Options labelled ``Yes`` or ``No`` stay text (GitHub reads forms as YAML 1.2);
every problem is a ``FormError`` naming the element at fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIELD_KINDS = ("input", "textarea", "dropdown", "checkboxes", "upload")
_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")


class _FormLoader(yaml.SafeLoader):
    """YAML as GitHub reads issue forms: ``Yes``, ``No``, ``on`` and ``off`` are text;
    only ``true`` and ``false`` are booleans (YAML 1.2), so an option labelled Yes stays Yes."""


_FormLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FormLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


def load_form_yaml(text: str) -> Any:
    """Parse an issue form's YAML text as GitHub does (see ``_FormLoader``)."""
    return yaml.load(text, Loader=_FormLoader)  # noqa: S506 -- a SafeLoader subclass


class FormError(Exception):
    """The template cannot be used; the message names the problem."""


@dataclass(frozen=True)
class FormField:
    """One answerable element of the form (markdown elements are not fields)."""

    id: str
    label: str
    kind: str  # input | textarea | dropdown | checkboxes | upload
    required: bool = False
    options: tuple[str, ...] = ()  # dropdown options, or checkbox option labels
    multiple: bool = False  # a dropdown that allows several options
    render: str | None = None  # a textarea's code-fence language


@dataclass(frozen=True)
class FormTemplate:
    fields: tuple[FormField, ...]
    labels: tuple[str, ...] = ()  # the issue labels the form applies
    name: str = ""
    title: str = ""
    # (bot field id, form element id) pairs the fields were renamed by (``form_map``).
    bound: tuple[tuple[str, str], ...] = ()

    def field(self, id: str) -> FormField | None:
        for f in self.fields:
            if f.id == id:
                return f
        return None

    @property
    def required_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.fields if f.required)


EMPTY_TEMPLATE = FormTemplate(fields=())


def load_form(path: str | Path) -> FormTemplate:
    """Read an issue-form YAML file; any problem is a ``FormError`` naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise FormError(f"{path}: cannot be read ({e})") from None
    try:
        data = load_form_yaml(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise FormError(f"{where}: not valid YAML ({getattr(e, 'problem', None) or e})") from None
    try:
        return form_from_mapping(data)
    except FormError as e:
        raise FormError(f"{path}: {e}") from None


def form_from_mapping(data: Any) -> FormTemplate:
    """Build a template from a parsed issue-form document (as ``yaml.safe_load`` gives it)."""
    if not isinstance(data, Mapping):
        raise FormError(f"an issue form must be a mapping, not {type(data).__name__}")
    body = data.get("body")
    if not isinstance(body, list) or not body:
        raise FormError("body: must be a non-empty list of form elements")
    fields: list[FormField] = []
    ids: set[str] = set()
    labels: dict[str, str] = {}
    for index, element in enumerate(body):
        f = _field_from_element(element, f"body[{index}]")
        if f is None:
            continue
        if f.id in ids:
            raise FormError(f"body[{index}]: id {f.id!r} is used twice")
        key = label_key(f.label)
        if key in labels:
            # GitHub refuses duplicate labels too; two equal headings could not be told apart.
            raise FormError(f"body[{index}]: label {f.label!r} is used twice")
        ids.add(f.id)
        labels[key] = f.id
        fields.append(f)
    if not fields:
        raise FormError("body: has no fields to answer, only markdown")
    return FormTemplate(
        fields=tuple(fields),
        labels=_issue_labels(data.get("labels")),
        name=_text(data.get("name")),
        title=_text(data.get("title")),
    )


def _field_from_element(element: Any, where: str) -> FormField | None:
    if not isinstance(element, Mapping):
        raise FormError(f"{where}: must be a mapping with a type")
    kind = element.get("type")
    if kind == "markdown":
        return None  # not rendered in the body
    if kind not in FIELD_KINDS:
        known = ", ".join(("markdown", *FIELD_KINDS))
        raise FormError(f"{where}: type {kind!r} is not one of {known}")
    attributes = element.get("attributes")
    if not isinstance(attributes, Mapping):
        raise FormError(f"{where}: needs attributes with a label")
    label = attributes.get("label")
    if not isinstance(label, str) or not label.strip():
        raise FormError(f"{where}: needs a label (attributes.label)")
    label = label.strip()
    raw_id = element.get("id")
    if raw_id is None:
        # GitHub allows elements without an id; their heading still ends the answer above.
        field_id = f"label:{label}"
    elif isinstance(raw_id, str) and _ID_RE.match(raw_id):
        field_id = raw_id
    else:
        raise FormError(f"{where}: id {raw_id!r} may hold only letters, digits, - and _")
    where = f"{where} ({field_id})"
    options: tuple[str, ...] = ()
    required = _required(element.get("validations"), where)
    if kind == "dropdown":
        options = _options(attributes.get("options"), where, checkbox=False)
    elif kind == "checkboxes":
        options = _options(attributes.get("options"), where, checkbox=True)
        required = any(
            isinstance(o, Mapping) and o.get("required") is True
            for o in attributes.get("options") or ()
        )
    render = attributes.get("render") if kind == "textarea" else None
    if render is not None and not isinstance(render, str):
        raise FormError(f"{where}: render must be a language name like shell")
    return FormField(
        id=field_id,
        label=label,
        kind=kind,
        required=required,
        options=options,
        multiple=kind == "dropdown" and attributes.get("multiple") is True,
        render=render or None,
    )


def _required(validations: Any, where: str) -> bool:
    if validations is None:
        return False
    if not isinstance(validations, Mapping):
        raise FormError(f"{where}: validations must be a mapping like {{required: true}}")
    required = validations.get("required", False)
    if not isinstance(required, bool):
        raise FormError(f"{where}: validations.required must be true or false")
    return required


def _options(raw: Any, where: str, *, checkbox: bool) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise FormError(f"{where}: needs a non-empty list of options")
    out: list[str] = []
    for i, option in enumerate(raw):
        if checkbox and not isinstance(option, Mapping):
            raise FormError(f"{where}: option {i + 1} must be a mapping with a label")
        value = option.get("label") if checkbox else option
        if isinstance(value, bool) or value is None:
            # YAML reads a bare yes/no/true/null as a boolean or null: the text is lost.
            raise FormError(f"{where}: option {i + 1} ({value!r}) must be text; quote it")
        if not isinstance(value, str | int | float):
            raise FormError(f"{where}: option {i + 1} must be text")
        text = str(value).strip()
        if not text:
            raise FormError(f"{where}: option {i + 1} is empty")
        out.append(text)
    return tuple(out)


def _issue_labels(raw: Any) -> tuple[str, ...]:
    # The schema allows a list or one comma-separated string.
    items: Iterable[Any] = raw.split(",") if isinstance(raw, str) else raw or ()
    if not isinstance(items, Iterable):
        return ()
    return tuple(str(x).strip() for x in items if isinstance(x, str) and x.strip())


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def label_key(label: str) -> str:
    """How labels compare: trimmed, inner runs of spaces as one, case-insensitive."""
    return " ".join(label.split()).casefold()
