"""The anchors of an HTML simple-index page (PEP 503), apart from :mod:`index` so that a run
that reads only JSON pages (PyPI's, and warm caches of them) never imports html.parser."""

from __future__ import annotations

from html.parser import HTMLParser


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.base: str | None = None
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self.anchors.append(dict(attrs))


def anchors(text: str) -> tuple[str | None, list[dict[str, str | None]]]:
    """The page's ``<base href>`` (the first one), and the attributes of each ``<a>``."""
    parser = _AnchorParser()
    parser.feed(text)
    return parser.base, parser.anchors
