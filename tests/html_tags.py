"""Test helper: collect the tags and text of an HTML page with the stdlib parser."""

from html.parser import HTMLParser


class Tags(HTMLParser):
    """Every start tag with its attributes, and every text run, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)
