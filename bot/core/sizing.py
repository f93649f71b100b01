"""Resource sizing: which node type, how many nodes, and how many to pre-warm.

The rule (configured in ``sizing``):

* A node type holds ``floor(allocatable memory / memory per user)`` users, and,
  when ``cpu_per_user`` is above zero, no more than ``floor(cpu / cpu_per_user)``;
  never more than ``max_users_per_node``. A node type that holds fewer than
  ``min_users_per_node`` users is not used, with one exception: an event with
  fewer attendees than that minimum, which no node type can serve at the
  minimum, gets one node of the smallest type that holds every attendee (a
  3-person workshop at 64 GiB each fits on one 220 GiB node).
* Of the usable node types, the one that needs the fewest nodes for the
  attendees wins; on a tie the smaller node wins, since it leaves less memory
  idle. The peak is ``ceil(attendees / users per node)`` nodes.
* Pre-warming readies enough nodes before the start that at most
  ``max_waiting_share`` of the users wait for a node to boot:
  ``ceil(ceil(attendees * (1 - share)) / users per node)`` nodes, at least one
  and never more than the peak.
* Like the hosting practice, placeholders also hold room for the users who arrive
  while a new node starts: the arrival rate (attendees over the event type's
  ``arrival_minutes``) times ``node_startup_minutes``, capped by the attendees
  (60 users every 3 minutes and 10 minutes for a node: room for 200). The larger
  of the two counts is pre-warmed, so no event gets fewer nodes than before; the
  status comment shows this arithmetic in one line (``Sizing.arithmetic``).
* Node types may be given per cluster or per cloud provider; the caller passes
  the ones for the request's hub (``node_types``).

All arithmetic is exact (fractions), after rounding each configured quantity
to nine decimals (a nano-GiB is about a byte), so ``26 / 2.0`` is 13 users,
``0.1 + 0.2`` GiB is read as 0.3 GiB, and a huge attendee count loses nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

from bot.core.config import NodeType, SizingConfig

# Nine decimals: finer than any memory, CPU or share anyone configures, coarse
# enough to absorb binary float noise such as 0.1 + 0.2.
_DECIMALS = 9


@dataclass(frozen=True)
class Sizing:
    node_type: str
    users_per_node: int
    nodes: int
    prewarm_nodes: int
    memory_per_user_gib: float
    node_memory_gib: float
    arithmetic: str = ""  # the pre-warm count worked out, for an engineer to check


class SizingError(ValueError):
    """The event cannot be sized; the message tells the champion what to change."""


@dataclass(frozen=True)
class _Fit:
    node: NodeType
    users_per_node: int
    nodes: int


def _exact(value: float) -> Fraction:
    """A configured decimal quantity as an exact fraction, float noise rounded away."""
    return Fraction(f"{value:.{_DECIMALS}f}")


def _gib(value: float | Fraction) -> str:
    """A quantity as people write it: ``26``, ``2.5``, ``0.25``."""
    return f"{float(value):g}"


def users_per_node(node: NodeType, memory_per_user_gib: float, config: SizingConfig) -> int:
    """How many users of this memory one node of this type holds, capped by config."""
    memory = _exact(memory_per_user_gib) if math.isfinite(memory_per_user_gib) else Fraction(0)
    if memory <= 0:
        raise SizingError(f"memory per user must be more than zero, not {memory_per_user_gib!r}")
    fit = math.floor(_exact(node.memory_gib) / memory)
    cpu = _exact(config.cpu_per_user)
    if cpu > 0:
        fit = min(fit, math.floor(_exact(node.cpu) / cpu))
    return max(0, min(fit, config.max_users_per_node))


def _users(count: int) -> str:
    return f"{count} user{'s' if count != 1 else ''}"


def _nothing_fits(attendees: int, memory: float, config: SizingConfig) -> SizingError:
    """Why no node type fits, in the numbers the champion gave and the rule that applies."""
    largest = max(config.node_types, key=lambda n: (n.memory_gib, n.cpu))
    least = config.min_users_per_node
    each = f"{_gib(memory)} GiB"
    holds = f"{_gib(largest.memory_gib)} GiB"
    if config.cpu_per_user > 0:
        each += f" and {_gib(config.cpu_per_user)} CPU"
        holds += f" and {_gib(largest.cpu)} CPU"
    # A small event needs one node for all its attendees; a larger one, the minimum a node.
    needed = min(attendees, least)
    if attendees < least:
        rule = f"no node type fits all {attendees}" if attendees > 1 else "no node type fits it"
    else:
        rule = f"no node type fits at least {_users(least)} of {each}"
    # The most memory a user may ask for and still fit the number needed on one node.
    most = max(
        (_exact(n.memory_gib) / needed for n in config.node_types
         if config.cpu_per_user <= 0 or _exact(n.cpu) / _exact(config.cpu_per_user) >= needed),
        default=None,
    )
    hint = ""
    if most is not None and most < _exact(memory):
        hint = f"; ask for at most {_gib(Fraction(math.floor(most * 10), 10))} GiB per user"
    per = " each" if attendees != 1 else ""
    return SizingError(f"{_users(attendees)} of {each}{per}: {rule} (the largest, "
                       f"{largest.name}, holds {holds}){hint}")


def _arrivals(attendees: int, arrival_minutes: float, startup_minutes: float) -> int:
    """Users arriving while one node starts, at most everyone."""
    arrival, startup = _exact(arrival_minutes), _exact(startup_minutes)
    if arrival <= 0:
        return attendees  # all at once
    return min(attendees, math.ceil(attendees * startup / arrival))


def _arithmetic(attendees: int, arrival_minutes: float, config: SizingConfig, room: int,
                ready: int, per_node: int, prewarm: int) -> str:
    rate = Fraction(attendees) / _exact(arrival_minutes) if arrival_minutes > 0 else None
    shown = f"{float(rate):.3g}/min" if rate is not None else "all at once"
    share = f"{float(_exact(config.max_waiting_share)) * 100:g} %"
    return (f"{_users(attendees)} over {_gib(arrival_minutes)} min = {shown} × "
            f"{_gib(config.node_startup_minutes)} min node start-up = room for {room}; "
            f"at most {share} waiting = {ready} ready; max({room}, {ready}) ÷ {per_node} a "
            f"node → {prewarm} node{'s' if prewarm != 1 else ''}")


def size_event(attendees: int, memory_per_user_gib: float | None,
               config: SizingConfig, *, arrival_minutes: float | None = None,
               node_types: tuple[NodeType, ...] | None = None) -> Sizing:
    """Node type, peak nodes and pre-warm nodes for ``attendees`` simultaneous users.

    ``memory_per_user_gib`` of ``None`` means the config's default. ``arrival_minutes``:
    how long attendees take to arrive (the event type's; None: the waiting share alone).
    ``node_types``: the hub's own (its cluster's or provider's), else the config's.
    Raises ``SizingError`` when the input is unusable or no node type fits enough users.
    """
    if node_types:
        config = replace(config, node_types=node_types)
    if isinstance(attendees, bool) or not isinstance(attendees, int) or attendees < 1:
        raise SizingError(f"attendees must be a whole number above zero, not {attendees!r}")
    memory = config.default_memory_per_user_gib if memory_per_user_gib is None \
        else memory_per_user_gib
    if not math.isfinite(memory) or _exact(memory) <= 0:
        raise SizingError(f"memory per user must be more than zero, not {_gib(memory)} GiB")
    if not config.node_types:
        raise SizingError("no node types are configured (sizing.node_types)")

    per_type = [(node, users_per_node(node, memory, config)) for node in config.node_types]
    fits = [_Fit(node, n, -(-attendees // n)) for node, n in per_type
            if n >= config.min_users_per_node]
    if not fits and attendees < config.min_users_per_node:
        # A small event no type serves at the minimum: one node that holds everyone.
        fits = [_Fit(node, n, 1) for node, n in per_type if n >= attendees]
    if not fits:
        raise _nothing_fits(attendees, memory, config)
    # min() keeps the first of equals, so config order settles a full tie.
    best = min(fits, key=lambda f: (f.nodes, _exact(f.node.memory_gib), _exact(f.node.cpu)))

    share = min(max(_exact(config.max_waiting_share), Fraction(0)), Fraction(1))
    ready_users = math.ceil(attendees * (1 - share))
    room = (_arrivals(attendees, arrival_minutes, config.node_startup_minutes)
            if arrival_minutes is not None else 0)
    prewarm = -(-max(ready_users, room) // best.users_per_node)
    prewarm = min(max(prewarm, 1), best.nodes)
    arithmetic = (_arithmetic(attendees, arrival_minutes, config, room, ready_users,
                              best.users_per_node, prewarm)
                  if arrival_minutes is not None else "")
    return Sizing(
        node_type=best.node.name,
        users_per_node=best.users_per_node,
        nodes=best.nodes,
        prewarm_nodes=prewarm,
        memory_per_user_gib=float(_exact(memory)),
        node_memory_gib=best.node.memory_gib,
        arithmetic=arithmetic,
    )
