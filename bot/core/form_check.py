"""The issue form checked against CONTRACT.md and the config (pure; ``check-config`` prints it).

Each problem is one line that names the form file and the element id at fault, so an
operator who renamed an id, made a required field optional or dropped a dropdown option
learns it before champions open requests the bot cannot read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .config import DEFAULT_FORM_PATH, Config
from .form_map import bound_form, mapping_problems
from .forms import FormTemplate
from .request import classify


@dataclass(frozen=True)
class ContractField:
    id: str
    kind: str  # input | textarea | dropdown
    required: bool


# CONTRACT.md, "The event-request form": the ids, types and required flags outside tests
# rely on (labels and help texts are the project's own).
CONTRACT_FIELDS: tuple[ContractField, ...] = (
    ContractField("hub_url", "input", True),
    ContractField("event_name", "input", False),
    ContractField("event_type", "dropdown", True),
    ContractField("start", "input", True),
    ContractField("end", "input", True),
    ContractField("timezone", "input", False),
    ContractField("attendees", "input", True),
    ContractField("memory_per_user", "input", False),
    ContractField("tier", "dropdown", True),
    ContractField("community_rep", "input", False),
    ContractField("details", "textarea", False),
)


def form_problems(form: FormTemplate, config: Config, form_name: str) -> list[str]:
    """Every way ``form`` falls short of the contract and of ``config``, one line each.

    The shipped form (or a copy of it) is held to the contract's ids; a team's own form
    (config ``form`` with ``form_fields`` or ``request_labels``) to its mapping: what the
    bot needs is there, what ``form_fields`` names exists.
    """
    adopted = bool(config.form_fields) or config.request_labels != Config().request_labels
    if adopted and config.form_path.resolve() != DEFAULT_FORM_PATH.resolve():
        bound = bound_form(form, config)
        return [
            *mapping_problems(form, config, form_name),
            *event_type_option_problems(bound, list(config.event_types), form_name),
            *_request_label_problems(form, config, form_name),
            *tier_option_problems(list(config.tiers), bound, form_name),
        ]
    return [
        *contract_field_problems(form, form_name),
        *event_type_option_problems(form, list(config.event_types), form_name),
        *form_label_problems(form, config.labels.event_request, form_name),
        *tier_option_problems(list(config.tiers), form, form_name),
    ]


def _request_label_problems(form: FormTemplate, config: Config, form_name: str) -> list[str]:
    """The form applies a label that marks a request (or the bot goes by headings alone)."""
    wanted = {label.lower() for label in config.request_labels}
    if wanted & {label.lower() for label in form.labels}:
        return []
    shown = ", ".join(form.labels) or "none"
    return [f"{form_name}: `labels` ({shown}) has none of request_labels "
            f"({', '.join(config.request_labels)}); issues opened from it get no such label"]


def contract_field_problems(form: FormTemplate, form_name: str) -> list[str]:
    """Each id the contract lists is there, with the contract's type and required flag."""
    problems = []
    for want in CONTRACT_FIELDS:
        have = form.field(want.id)
        flag = "required" if want.required else "optional"
        if have is None:
            problems.append(f"{form_name}: no element with id `{want.id}` (the contract "
                            f"names a {flag} {want.kind} `{want.id}`)")
            continue
        if have.kind != want.kind:
            problems.append(f"{form_name}: `{want.id}` is a {have.kind}; the contract says "
                            f"{want.kind}")
        if have.required != want.required:
            fix = "true" if want.required else "false"
            problems.append(f"{form_name}: `{want.id}` must be {flag} "
                            f"(validations: required: {fix})")
    return problems


def event_type_option_problems(form: FormTemplate, event_types: Sequence[str],
                               form_name: str) -> list[str]:
    """Each configured event type has an option the bot reads as that type."""
    field = form.field("event_type")
    if field is None or field.kind != "dropdown":
        return []  # reported by contract_field_problems
    # The bot's own reading of a dropdown answer, so the check cannot drift from it.
    covered = set()
    for option in field.options:
        event_type, source = classify(option, None, "", None, Config())
        if source == "form":
            covered.add(event_type)
    return [f"{form_name}: `event_type` has no option for event type {name!r} (an option "
            f"whose text contains the word {name!r})"
            for name in event_types if name not in covered]


def form_label_problems(form: FormTemplate, event_request_label: str,
                        form_name: str) -> list[str]:
    """The form puts the configured event-request label on each issue opened from it."""
    if event_request_label.lower() in {label.lower() for label in form.labels}:
        return []
    shown = ", ".join(form.labels) or "none"
    return [f"{form_name}: `labels` ({shown}) must include the event-request label "
            f"{event_request_label!r} from config"]


def tier_option_problems(tiers: Iterable[str], form: FormTemplate, form_name: str
                         ) -> list[str]:
    """Each tier option must start with a config tier, and each tier needs an option."""
    tiers = list(tiers)
    field = form.field("tier")
    if field is None or field.kind != "dropdown":
        return []  # reported by contract_field_problems
    problems = []
    names = sorted(tiers, key=len, reverse=True)
    matched: set[str] = set()
    for option in field.options:
        hit = next((n for n in names if option.lower().startswith(n.lower())), None)
        if hit is None:
            problems.append(f"{form_name}: tier option {option!r} does not start "
                            f"with a tier in config ({', '.join(tiers)})")
        else:
            matched.add(hit)
    for name in tiers:
        if name not in matched:
            problems.append(f"{form_name}: no tier option for config tier {name!r}")
    return problems
