"""The ETag cache each GitHub identity hands to gidgethub: answers kept compressed.

gidgethub stores ``(etag, last_modified, data, more)`` per URL and sends the ETag back
on the next GET; an unchanged answer then costs a ``304`` that does not count against
the primary rate limit. This module only decides how those answers are held.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import cachetools

ETAG_CACHE_SIZE = 4096  # answers kept per identity, for ETags (~2,000 open requests)
ETAG_CACHE_BYTES = 16 * 1024 * 1024  # and at most this much compressed JSON per identity

_Held = tuple[Any, Any, bytes, Any]  # (etag, last_modified, compressed JSON, more)


class _Answers(cachetools.LRUCache[str, _Held]):
    """An LRU bounded by the bytes of compressed JSON, and by a number of answers too."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        super().__init__(maxsize=max_bytes, getsizeof=lambda held: len(held[2]))
        self.max_entries = max_entries

    def __setitem__(self, url: str, held: _Held) -> None:
        super().__setitem__(url, held)
        while len(self) > self.max_entries:
            self.popitem()  # the least recently used


class EtagCache(MutableMapping[str, tuple[Any, ...]]):
    """gidgethub's ETag cache, each answer held as compressed JSON text, least recent out.

    Parsed JSON costs about three times its text in memory, and a reconciliation keeps
    two answers per open request (its issue, its comments); compressed text costs a
    tenth of that. Every read parses a fresh copy, so callers may change what they get.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._entries = _Answers(max_entries, max_bytes)

    @property
    def bytes(self) -> int:
        """Compressed bytes held now."""
        return int(self._entries.currsize)

    def __getitem__(self, url: str) -> tuple[Any, ...]:
        etag, last_modified, blob, more = self._entries[url]
        return etag, last_modified, json.loads(zlib.decompress(blob)), more

    def __setitem__(self, url: str, value: tuple[Any, ...]) -> None:
        etag, last_modified, data, more = value
        blob = zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 1)
        self._entries.pop(url, None)
        # One answer larger than the whole cache is not kept (cachetools refuses it).
        with contextlib.suppress(ValueError):
            self._entries[url] = (etag, last_modified, blob, more)

    def __delitem__(self, url: str) -> None:
        del self._entries[url]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
