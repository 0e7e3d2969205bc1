"""Remembered GET responses, so a repeated read is a conditional GET that GitHub answers 304.

A 304 does not count against the rate limit. ETags belong to the token that read them, so
the key holds a digest of the `Authorization` header as well as the URL.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedResponse:
    etag: str
    body: bytes
    headers: tuple[tuple[str, str], ...]


def cache_key(authorization: str, url: str) -> str:
    """A key that never reveals the token it was derived from."""
    return hashlib.sha256(f"{authorization}\n{url}".encode()).hexdigest()


class EtagCache:
    """A bounded least-recently-used map of cache keys to responses."""

    def __init__(self, max_entries: int = 2048) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()

    def get(self, key: str) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: CachedResponse) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
