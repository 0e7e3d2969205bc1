"""GitHub's `Link` header, which names the next page (including cursor-paginated lists)."""

from __future__ import annotations

import re

_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]*)"')


def next_page_url(link_header: str | None) -> str | None:
    """The URL marked `rel="next"`, or None on the last page.

    >>> next_page_url('<https://api.github.com/x?page=2>; rel="next", <...>; rel="last"')
    'https://api.github.com/x?page=2'
    """
    if not link_header:
        return None
    for match in _LINK.finditer(link_header):
        if "next" in match.group(2).split():
            return match.group(1)
    return None
