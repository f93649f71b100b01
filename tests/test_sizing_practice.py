"""Sizing like the hosting practice: placeholders from the arrival rate times a node's
start-up time, node types per cluster or cloud, and the arithmetic shown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.config import ConfigError, HubIndexConfig, NodeType, SizingConfig, parse_config
from bot.core.hub_index import HubEntry
from bot.core.plan import triage
from bot.core.prewarm_status import node_types_for
from bot.core.sizing import size_event

from .lifecycle_sim import FORM, OPENED, base_config, form_body, make_issue

NODE = NodeType("big", 100.0, 64.0)  # 100 users of 1 GiB a node


@pytest.mark.parametrize(("attendees", "arrival", "startup", "share", "room", "prewarm"), [
    # 60 users every 3 minutes (300 over 15) and 10 minutes for a node: room for 200.
    (300, 15, 10, 0.9, 200, 2),
    (300, 15, 10, 0.3, 200, 3),   # at most 30 % waiting asks more (210 ready): kept
    (300, 5, 10, 0.9, 300, 3),    # an exam: everyone within minutes, capped by attendees
    (300, 60, 10, 0.9, 50, 1),    # spread over an hour
    (300, None, 10, 0.9, 0, 1),   # no arrival window: the waiting share alone, as before
])
def test_placeholders_are_the_arrival_rate_times_the_start_up(
        attendees: int, arrival: float | None, startup: float, share: float, room: int,
        prewarm: int) -> None:
    cfg = SizingConfig(node_types=(NODE,), max_waiting_share=share,
                       node_startup_minutes=startup)
    sized = size_event(attendees, 1.0, cfg, arrival_minutes=arrival)
    assert sized.prewarm_nodes == prewarm
    if arrival is None:
        assert sized.arithmetic == ""
    else:
        assert f"room for {room};" in sized.arithmetic
        assert sized.arithmetic.endswith(f"→ {prewarm} node{'s' if prewarm != 1 else ''}")


def test_the_event_type_sets_the_arrival_window_and_the_status_comment_shows_it() -> None:
    config = base_config()
    assert {n: t.arrival_minutes for n, t in config.event_types.items()} == {
        "exam": 5, "workshop": 30, "demo": 15, "other": 30}
    exam = triage(make_issue(), None, config, FORM, OPENED)
    workshop = triage(make_issue(form_body(event_type="Workshop")), None, config, FORM,
                      OPENED)
    assert exam.sizing is not None and workshop.sizing is not None
    assert exam.sizing.prewarm_nodes > workshop.sizing.prewarm_nodes
    assert "180 users over 5 min = 36/min × 10 min node start-up" in exam.comment


SMALL = NodeType("m5.xlarge", 14.0, 4.0)
GCP = NodeType("n2-highmem-16", 110.0, 16.0)


@pytest.mark.parametrize(("host", "index", "expected"), [
    ("hub.cryointhecloud.com", {"hub.cryointhecloud.com": HubEntry("nasa-cryo", "prod", "aws")},
     (SMALL,)),  # the cluster's own
    ("x.2i2c.cloud", {"x.2i2c.cloud": HubEntry("other", "prod", "gcp")}, (GCP,)),  # its cloud
    ("y.2i2c.cloud", {"y.2i2c.cloud": HubEntry("other", "prod", None)}, None),  # the default
    ("unlisted.example.org", {}, None),
])
def test_node_types_per_cluster_or_cloud(host: str, index: dict[str, HubEntry],
                                         expected: tuple[NodeType, ...] | None) -> None:
    config = base_config(hub_index=HubIndexConfig("org/infra"))
    config = replace(config, sizing=replace(
        config.sizing, node_types_by_cluster={"nasa-cryo": (SMALL,)},
        node_types_by_provider={"gcp": (GCP,)}))
    assert node_types_for(host, config, index) == expected
    issue = replace(make_issue(form_body(hub_url=f"https://{host}", attendees="20",
                                           memory_per_user="2 GB")),
                    hub_index=index)
    sized = triage(issue, None, config, FORM, OPENED).sizing
    assert sized is not None
    assert sized.node_type == (expected[0].name if expected else sized.node_type)


@pytest.mark.parametrize(("raw", "problem"), [
    ({"sizing": {"node_types_by_cluster": {"c": []}}}, "sizing.node_types_by_cluster.c"),
    ({"sizing": {"node_startup_minutes": -1}}, "sizing.node_startup_minutes"),
    ({"event_types": {"exam": {"arrival_minutes": 0}}}, "event_types.exam.arrival_minutes"),
    ({"prewarm": {"hub_index": {"repository": "not a repo"}}}, "prewarm.hub_index.repository"),
    ({"prewarm": {"hub_index": {"repository": "o/r", "path": "../x/*.yaml"}}},
     "prewarm.hub_index.path"),
    ({"prewarm": {"hub_index": {"repository": "o/r", "refresh_minutes": 0}}},
     "prewarm.hub_index.refresh_minutes"),
    ({"prewarm": {"for_tiers": "premium"}}, "prewarm.for_tiers"),
    ({"prewarm": {"for_tiers": ["gold"]}}, "'gold' is not one of the tiers"),
    ({"prewarm": {"for_event_types": ["talk"]}}, "'talk' is not one of"),
])
def test_the_new_keys_are_checked(raw: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert problem in str(caught.value)


def test_the_new_keys_are_read() -> None:
    config = parse_config({
        "event_types": {"exam": {"arrival_minutes": 3}},
        "sizing": {"node_startup_minutes": 7,
                   "node_types_by_provider": {"AWS": [{"name": "m5", "memory": "14 GiB",
                                                        "cpu": 4}]}},
        "tiers": {"standard": {"price_usd": 0}, "premium": {"price_usd": 500}},
        "prewarm": {"repository": "o/infra", "for_tiers": ["premium"],
                    "for_event_types": ["exam"], "keep_warm_between_sessions_hours": 6,
                    "hub_index": {"repository": "o/infrastructure"}},
    })
    assert config.event_types["exam"].arrival_minutes == 3
    assert config.sizing.node_startup_minutes == 7
    assert config.sizing.node_types_by_provider["aws"][0].name == "m5"
    assert config.prewarm.for_tiers == ("premium",)
    assert config.prewarm.for_event_types == ("exam",)
    assert config.prewarm.keep_warm_between_sessions_hours == 6
    assert config.prewarm.hub_index == HubIndexConfig("o/infrastructure")
