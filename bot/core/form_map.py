"""A team's own form read in the bot's terms: config ``form_fields`` (pure).

``form_fields`` maps each bot field id to the element id that holds it in the
form (identity by default). ``bind_fields`` renames the template's fields to
the bot's ids once, so every later step (parsing, required flags, the label an
error is shown under) speaks bot ids whatever the form calls them; the pairs
it renamed by are kept on the template, so binding again (another repository's
mapping over the same form) starts from the form's own ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache

from .config import BOT_FIELD_IDS, REQUIRED_BOT_FIELDS, Config
from .forms import FormField, FormTemplate, ParsedForm, label_key

YES_WORDS = ("yes", "y", "true")
NO_WORDS = ("no", "n", "false")


def bind_fields(template: FormTemplate, form_fields: Mapping[str, str]) -> FormTemplate:
    """The template with each mapped element renamed to its bot field id."""
    return _bind(template, tuple(sorted(form_fields.items())))


def bound_form(form: FormTemplate, config: Config) -> FormTemplate:
    return bind_fields(form, config.form_fields)


@lru_cache(maxsize=32)  # a handful of (form, mapping) pairs per deployment
def _bind(template: FormTemplate, pairs: tuple[tuple[str, str], ...]) -> FormTemplate:
    if template.bound == pairs:
        return template
    if template.bound:
        template = _unbind(template)
    if not pairs:
        return template
    to_bot = {element: bot for bot, element in pairs if bot != element}
    moved = set(to_bot.values())
    fields: list[FormField] = []
    for f in template.fields:
        if f.id in to_bot:
            fields.append(replace(f, id=to_bot[f.id]))
        elif f.id in moved:
            # An element named like a bot field that is mapped elsewhere keeps its place
            # in the body but no longer answers for that field.
            fields.append(replace(f, id=f"element:{f.id}"))
        else:
            fields.append(f)
    return replace(template, fields=tuple(fields), bound=pairs)


def _unbind(template: FormTemplate) -> FormTemplate:
    to_element = {bot: element for bot, element in template.bound}
    fields = tuple(
        replace(f, id=f.id.removeprefix("element:")) if f.id.startswith("element:")
        else replace(f, id=to_element.get(f.id, f.id))
        for f in template.fields
    )
    return replace(template, fields=fields, bound=())


def element_id(config: Config, bot_id: str) -> str:
    """The form element that holds a bot field (``plan --format json`` names it in errors)."""
    return config.form_fields.get(bot_id, bot_id)


def yes_no(parsed: ParsedForm, field_id: str) -> bool | None:
    """A yes/no answer: a dropdown or input reading Yes/No, or checkboxes.

    Checkboxes read as yes when an option starting with "yes" is ticked (or the only
    option, whatever its text), as no when "no" is ticked (or the only option is not);
    anything else is no answer.
    """
    f = parsed.template.field(field_id)
    if f is None or field_id not in parsed.present:
        return None
    if f.kind == "checkboxes":
        ticked = [label_key(o) for o in parsed.selected(field_id)]
        if any(_first_word(t) in YES_WORDS for t in ticked):
            return True
        if any(_first_word(t) in NO_WORDS for t in ticked):
            return False
        if len(f.options) == 1:
            return bool(ticked)
        return None
    value = parsed.get(field_id)
    word = _first_word(label_key(value)) if value else ""
    return True if word in YES_WORDS else False if word in NO_WORDS else None


def _first_word(text: str) -> str:
    head = text.split(maxsplit=1)
    return head[0].strip(".,;:!") if head else ""


def mapping_problems(form: FormTemplate, config: Config, form_name: str) -> list[str]:
    """``form_fields`` checked against the form, one line each: every mapped element
    exists, and every field the bot cannot do without is held by some element."""
    problems: list[str] = []
    own = {f.id: f for f in _unbind(form).fields} if form.bound else {f.id: f for f in form.fields}
    for bot_id, element in config.form_fields.items():
        if element not in own:
            problems.append(f"{form_name}: form_fields.{bot_id} names element `{element}`, "
                            "which the form does not have")
    bound = bound_form(form, config)
    for bot_id in REQUIRED_BOT_FIELDS:
        if bound.field(bot_id) is None:
            problems.append(f"{form_name}: no element holds the bot's required field "
                            f"`{bot_id}`; add one, or map it with form_fields.{bot_id}")
    for bot_id in BOT_FIELD_IDS:
        f = bound.field(bot_id)
        if f is not None and f.kind == "upload":
            problems.append(f"{form_name}: `{f.id}` is an upload; the bot cannot read "
                            f"{bot_id} from it")
    return problems
