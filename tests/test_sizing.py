"""Sizing: node type choice, peak and pre-warm nodes, float care, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.config import NodeType, SizingConfig
from bot.core.sizing import Sizing, SizingError, size_event, users_per_node
from bot.service.loading import load_config

CONFIG_YAML = Path(__file__).resolve().parent.parent / "config.yaml"


@pytest.fixture(scope="module")
def shipped() -> SizingConfig:
    return load_config(CONFIG_YAML).sizing


def _cfg(*nodes: tuple[str, float, float], **kwargs: Any) -> SizingConfig:
    return SizingConfig(node_types=tuple(NodeType(n, m, c) for n, m, c in nodes), **kwargs)


# Shipped node types: n2-highmem-4 (26 GiB), -16 (110 GiB), -32 (220 GiB); 2 GiB default.
@pytest.mark.parametrize(
    ("attendees", "memory", "node_type", "per_node", "nodes", "prewarm"),
    [
        (1, None, "n2-highmem-4", 13, 1, 1),        # every type needs one node: smallest wins
        (13, None, "n2-highmem-4", 13, 1, 1),       # 26 / 2.0 is 13 exactly
        (14, None, "n2-highmem-16", 55, 1, 1),
        (55, None, "n2-highmem-16", 55, 1, 1),
        (56, None, "n2-highmem-32", 100, 1, 1),     # 110 fit, capped at 100
        (100, None, "n2-highmem-32", 100, 1, 1),
        (101, None, "n2-highmem-16", 55, 2, 2),     # two nodes either way: the smaller
        (200, None, "n2-highmem-32", 100, 2, 2),    # ready 140 of 200 -> 2 nodes
        (1000, None, "n2-highmem-32", 100, 10, 7),  # 700 ready users -> 7 nodes
        (1000, 2.0, "n2-highmem-32", 100, 10, 7),   # explicit default is the same
        (40, 4.0, "n2-highmem-32", 55, 1, 1),
        (300, 4.0, "n2-highmem-32", 55, 6, 4),      # ceil(210 / 55) = 4
        (4, 55.0, "n2-highmem-32", 4, 1, 1),        # exactly the minimum fits
        (4, 27.5, "n2-highmem-16", 4, 1, 1),        # 110 / 27.5 = 4 exactly; tie -> smaller
        (8, 27.5, "n2-highmem-32", 8, 1, 1),        # fewer nodes beats a smaller node
        (30, 0.5, "n2-highmem-4", 52, 1, 1),        # 26 / 0.5: one small node is enough
        (10**12, None, "n2-highmem-32", 100, 10**10, 7 * 10**9),  # huge: exact integers
    ],
)
def test_shipped_node_types(shipped: SizingConfig, attendees: int, memory: float | None,
                            node_type: str, per_node: int, nodes: int, prewarm: int) -> None:
    got = size_event(attendees, memory, shipped)
    assert (got.node_type, got.users_per_node, got.nodes, got.prewarm_nodes) == (
        node_type, per_node, nodes, prewarm)


def test_result_carries_memory(shipped: SizingConfig) -> None:
    assert size_event(20, None, shipped) == Sizing(
        node_type="n2-highmem-16", users_per_node=55, nodes=1, prewarm_nodes=1,
        memory_per_user_gib=2.0, node_memory_gib=110.0)


@pytest.mark.parametrize(
    ("config", "attendees", "memory", "per_node", "nodes", "prewarm"),
    [
        # 3.0 / (0.1 + 0.2) is 9.999999999999998 in floats: still 10 users.
        (_cfg(("n", 3.0, 99.0)), 10, 0.1 + 0.2, 10, 1, 1),
        # 0.7 / 0.1 is 6.999999999999999 in floats: still 7 users by CPU.
        (_cfg(("n", 100.0, 0.7), cpu_per_user=0.1), 14, 1.0, 7, 2, 2),
        # 10 * (1 - 0.7) is 3.0000000000000004 in floats: 3 ready users, not 4.
        (_cfg(("n", 2.0, 1.0), min_users_per_node=1, max_waiting_share=0.7), 10, 2.0, 1, 10, 3),
        # MiB-sized requests: 4096 MiB nodes, 512 MiB users.
        (_cfg(("n", 4.0, 8.0)), 16, 0.5, 8, 2, 2),
        # No waiting allowed: every node is pre-warmed.
        (_cfg(("n", 40.0, 8.0), max_waiting_share=0.0), 95, 4.0, 10, 10, 10),
        # Everyone may wait: still one node ready.
        (_cfg(("n", 40.0, 8.0), max_waiting_share=1.0), 95, 4.0, 10, 10, 1),
        # CPU is the tighter limit.
        (_cfg(("n", 64.0, 4.0), cpu_per_user=0.5), 20, 2.0, 8, 3, 2),
        # cpu_per_user 0: CPU ignored even on a tiny-CPU node.
        (_cfg(("n", 64.0, 0.1)), 20, 2.0, 32, 1, 1),
        # Capped by max_users_per_node.
        (_cfg(("n", 1000.0, 100.0), max_users_per_node=50), 120, 1.0, 50, 3, 2),
    ],
)
def test_rule_edges(config: SizingConfig, attendees: int, memory: float, per_node: int,
                    nodes: int, prewarm: int) -> None:
    got = size_event(attendees, memory, config)
    assert (got.users_per_node, got.nodes, got.prewarm_nodes) == (per_node, nodes, prewarm)


def test_float_noise_is_rounded_in_the_result() -> None:
    got = size_event(10, 0.1 + 0.2, _cfg(("n", 3.0, 99.0)))
    assert got.memory_per_user_gib == 0.3


@pytest.mark.parametrize(
    ("nodes", "attendees", "expected"),
    [
        # Fewest nodes wins over node size.
        ((("small", 16.0, 4.0), ("big", 64.0, 16.0)), 20, "big"),
        # Equal node counts: the node with less memory (less idle).
        ((("big", 64.0, 16.0), ("small", 16.0, 4.0)), 8, "small"),
        # Equal memory: less CPU.
        ((("cpu8", 32.0, 8.0), ("cpu4", 32.0, 4.0)), 10, "cpu4"),
        # Full tie: config order.
        ((("first", 32.0, 4.0), ("second", 32.0, 4.0)), 10, "first"),
        # A type below the minimum users is never chosen, even for few attendees.
        ((("tiny", 6.0, 1.0), ("ok", 8.0, 1.0)), 1, "ok"),
    ],
)
def test_choice(nodes: tuple[tuple[str, float, float], ...], attendees: int,
                expected: str) -> None:
    assert size_event(attendees, 2.0, _cfg(*nodes)).node_type == expected


@pytest.mark.parametrize(
    ("config", "attendees", "memory", "message"),
    [
        # The numbers the champion gave, then the rule that applies.
        (None, 4, 64.0, "4 users of 64 GiB each: no node type fits at least 4 users of 64 GiB "
                        "(the largest, n2-highmem-32, holds 220 GiB); ask for at most 55 GiB "
                        "per user"),
        (None, 30, 64.0, "30 users of 64 GiB each: no node type fits at least 4 users"),
        # Fewer attendees than the minimum: they must all fit on one node.
        (None, 3, 100.0, "3 users of 100 GiB each: no node type fits all 3 (the largest, "
                         "n2-highmem-32, holds 220 GiB); ask for at most 73.3 GiB per user"),
        (None, 1, 1000.0, "1 user of 1000 GiB: no node type fits it (the largest, "
                          "n2-highmem-32, holds 220 GiB); ask for at most 220 GiB per user"),
        (_cfg(("n", 100.0, 3.0), cpu_per_user=1.0), 10, 2.0,
         "10 users of 2 GiB and 1 CPU each: no node type fits at least 4 users of 2 GiB and "
         "1 CPU (the largest, n, holds 100 GiB and 3 CPU)"),
        (_cfg(("n", 10.0, 1.0)), 10, 3.0,
         "(the largest, n, holds 10 GiB); ask for at most 2.5 GiB per user"),
        (_cfg(("n", 10.0, 1.0)), 10, 2.6, "ask for at most 2.5 GiB per user"),
        (None, 0, None, "attendees must be a whole number above zero"),
        (None, -5, None, "attendees must be a whole number above zero"),
        (None, True, None, "attendees must be a whole number above zero"),
        (None, 10, 0.0, "memory per user must be more than zero"),
        (None, 10, -2.0, "memory per user must be more than zero"),
        (None, 10, float("nan"), "memory per user must be more than zero"),
        (None, 10, float("inf"), "memory per user must be more than zero"),
        (None, 10, 1e-12, "memory per user must be more than zero"),
        (_cfg(), 10, 2.0, "no node types are configured"),
    ],
)
def test_errors(shipped: SizingConfig, config: SizingConfig | None, attendees: int,
                memory: float | None, message: str) -> None:
    with pytest.raises(SizingError) as caught:
        size_event(attendees, memory, config or shipped)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("attendees", "memory", "node_type", "per_node"),
    [
        (3, 64.0, "n2-highmem-32", 3),   # no type holds 4 of 64 GiB; one holds all 3
        (2, 64.0, "n2-highmem-32", 3),
        (1, 100.0, "n2-highmem-16", 1),  # the smallest type that holds everyone
        (2, 100.0, "n2-highmem-32", 2),
        (3, 55.0, "n2-highmem-32", 4),   # a type reaches the minimum: the usual rule
    ],
)
def test_a_small_event_fits_on_one_node_below_the_minimum(
        shipped: SizingConfig, attendees: int, memory: float, node_type: str,
        per_node: int) -> None:
    got = size_event(attendees, memory, shipped)
    assert (got.node_type, got.users_per_node, got.nodes, got.prewarm_nodes) == (
        node_type, per_node, 1, 1)
    assert got.users_per_node * got.memory_per_user_gib <= got.node_memory_gib


@pytest.mark.parametrize(
    ("memory", "expected"),
    [(2.0, 55), (4.0, 27), (27.5, 4), (30.0, 3), (200.0, 0), (0.25, 100)],
)
def test_users_per_node(shipped: SizingConfig, memory: float, expected: int) -> None:
    highmem16 = next(n for n in shipped.node_types if n.name == "n2-highmem-16")
    assert users_per_node(highmem16, memory, shipped) == expected


@pytest.mark.parametrize("attendees", [1, 2, 7, 13, 99, 100, 101, 499, 5000, 123457])
@pytest.mark.parametrize("memory", [None, 0.5, 1.0, 3.0, 7.5, 16.0, 50.0])
def test_invariants(shipped: SizingConfig, attendees: int, memory: float | None) -> None:
    got = size_event(attendees, memory, shipped)
    assert shipped.min_users_per_node <= got.users_per_node <= shipped.max_users_per_node
    assert got.nodes * got.users_per_node >= attendees
    assert (got.nodes - 1) * got.users_per_node < attendees
    assert 1 <= got.prewarm_nodes <= got.nodes
    # At most 30% of users wait: the pre-warmed nodes hold the rest.
    assert got.prewarm_nodes * got.users_per_node >= attendees * 0.7 - 1e-9
    assert got.users_per_node * got.memory_per_user_gib <= got.node_memory_gib
