"""Module tests for ``bot.github.etag_cache``: bounded by answers and by compressed bytes."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bot.github.etag_cache import EtagCache


def held(data: Any) -> tuple[Any, ...]:
    return ('W/"etag"', None, data, None)


def noise(n: int) -> str:
    return os.urandom(n).hex()  # does not compress: its size is its size


@pytest.mark.parametrize(
    ("max_entries", "max_bytes", "steps", "kept"),
    [
        (3, 10**6, ["a", "b", "c", "d"], ["b", "c", "d"]),  # the oldest out
        (3, 10**6, ["a", "b", "c", "read a", "d"], ["a", "c", "d"]),  # a read keeps it
        (3, 10**6, ["a", "b", "c", "a", "d"], ["a", "c", "d"]),  # so does a new answer
        (100, 1500, ["a", "b", "c"], ["b", "c"]),  # ~520 bytes each: the bytes decide
        (100, 1500, ["a", "b", "read a", "c"], ["a", "c"]),
        (100, 1500, ["a", "huge"], ["a"]),  # larger than the whole cache: not kept
        (100, 1500, ["a", "delete a", "b"], ["b"]),
    ],
)
def test_bounds(max_entries: int, max_bytes: int, steps: list[str], kept: list[str]) -> None:
    cache = EtagCache(max_entries, max_bytes)
    for step in steps:
        if step.startswith("read "):
            assert cache[step[5:]] is not None
        elif step.startswith("delete "):
            del cache[step[7:]]
        else:
            cache[step] = held(noise(4000 if step == "huge" else 500))
    assert sorted(cache) == sorted(kept)
    assert len(cache) == len(kept)
    assert 0 < cache.bytes <= max_bytes


def test_every_read_is_a_fresh_copy() -> None:
    cache = EtagCache(10, 10**6)
    cache["u"] = ('W/"1"', "Mon", {"labels": ["a"]}, "next")
    first = cache["u"]
    first[2]["labels"].append("changed")
    assert cache["u"] == ('W/"1"', "Mon", {"labels": ["a"]}, "next")


def test_answers_are_held_compressed() -> None:
    cache = EtagCache(10, 10**6)
    cache["u"] = held([{"body": "the same text " * 50}] * 20)
    assert cache.bytes < 1000
    cache["u"] = held([])  # replacing an answer frees its bytes
    assert cache.bytes < 20
