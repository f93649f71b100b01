"""The ETag cache each GitHub identity hands to gidgethub: answers kept compressed.

gidgethub stores ``(etag, last_modified, data, more)`` per URL and sends the ETag back
on the next GET; an unchanged answer then costs a ``304`` that does not count against
the primary rate limit. This module only decides how those answers are held.
"""

from __future__ import annotations

import json
import zlib
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from typing import Any

ETAG_CACHE_SIZE = 4096  # answers kept per identity, for ETags (~2,000 open requests)
ETAG_CACHE_BYTES = 16 * 1024 * 1024  # and at most this much compressed JSON per identity


class EtagCache(MutableMapping[str, tuple[Any, ...]]):
    """gidgethub's ETag cache, each answer held as compressed JSON text, least recent out.

    Parsed JSON costs about three times its text in memory, and a reconciliation keeps
    two answers per open request (its issue, its comments); compressed text costs a
    tenth of that. Every read parses a fresh copy, so callers may change what they get.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._entries: OrderedDict[str, tuple[Any, Any, bytes, Any]] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self.bytes = 0

    def __getitem__(self, url: str) -> tuple[Any, ...]:
        etag, last_modified, blob, more = self._entries[url]
        self._entries.move_to_end(url)
        return etag, last_modified, json.loads(zlib.decompress(blob)), more

    def __setitem__(self, url: str, value: tuple[Any, ...]) -> None:
        etag, last_modified, data, more = value
        blob = zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 1)
        self.pop(url, None)
        self._entries[url] = (etag, last_modified, blob, more)
        self.bytes += len(blob)
        while len(self._entries) > self._max_entries or self.bytes > self._max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self.bytes -= len(dropped[2])

    def __delitem__(self, url: str) -> None:
        self.bytes -= len(self._entries.pop(url)[2])

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
