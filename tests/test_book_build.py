"""The HTML book builds from the notebooks' stored outputs, with warnings as errors, is
self-contained, and every internal link and anchor in it resolves."""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = pytest.mark.book


def test_book_builds_without_warnings(built_book):
    html, _log, seconds = built_book
    print(f"book built in {seconds:.1f} s")
    intro = (html / "notebooks" / "00_introduction.html").read_text()
    assert "animation" in intro.lower() and "<input" in intro, (
        "the static latent slider is missing"
    )
    assert "data:image/png;base64" in intro or list((html / "_images").glob("*.png")), (
        "no figures rendered"
    )
    assert (html / "index.html").is_file()


def test_book_ships_mathjax_and_no_thebe(built_book):
    html, _, _ = built_book
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) >= 9
    for page in pages:
        text = page.read_text()
        assert "THEBE_JS_URL" not in text and "unpkg.com" not in text, page.name
        assert re.search(r"<script[^>]+src=\"https?://", text) is None, page.name
        assert re.search(r"<link[^>]+href=\"https?://", text) is None, page.name


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "a" and key == "src"):
                self.urls.append(attrs[key])


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(errors="replace"))
    return parser


def test_every_internal_link_and_anchor_resolves(built_book):
    """A link check of the built HTML: relative href/src point at a file, #fragments at an id."""
    html, _, _ = built_book
    pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)
    parsed = {p.resolve(): _parse(p) for p in pages}
    broken, checked = [], 0
    for page, links in parsed.items():
        for url in links.urls:
            parts = urlsplit(url)
            if (
                parts.scheme
                or parts.netloc
                or url.startswith(("javascript:", "mailto:"))
            ):
                continue
            target = (
                (page.parent / unquote(parts.path)).resolve() if parts.path else page
            )
            checked += 1
            if not target.exists():
                broken.append(f"{page.name}: {url}")
                continue
            if target.is_dir():
                target = target / "index.html"
            if parts.fragment and target.suffix == ".html":
                ids = parsed.get(target) or _parse(target)
                if unquote(parts.fragment) not in ids.ids:
                    broken.append(f"{page.name}: {url} (no such anchor)")
    assert checked > 100, f"only {checked} internal links found"
    assert not broken, "broken internal links:\n" + "\n".join(broken[:30])


def test_the_colab_buttons_open_the_reader_copies(built_book):
    """A chapter's Colab button opens its reader copy (book/readers/, numbers pasted in), not
    the chapter, whose glue roles only the book renders (book/_config.yml's path_to_book)."""
    from lib import nbtools

    html, _, _ = built_book
    repository = nbtools.repository_url().removeprefix("https://github.com/")
    for chapter in nbtools.notebooks():
        page = (html / "notebooks" / f"{chapter.stem}.html").read_text()
        colab = re.findall(
            r"https://colab\.research\.google\.com/github/[^\"'\s]+", page
        )
        assert colab, f"{chapter.stem}: no Colab button"
        for url in colab:
            rel = url.split(f"/github/{repository}/blob/", 1)[1].split("/", 1)[1]
            assert rel == f"book/readers/notebooks/{chapter.name}", url
            assert (nbtools.ROOT / rel).is_file(), f"{url} opens a missing file"


def test_no_graded_solution_shows_in_the_built_book(built_book):
    """The graded answers live in instructor/ (the course kit's instructor pack): no line of
    a solution, a rubric or a folded explanation of a graded question is on any page."""
    import html

    from lib import course

    html_dir, _, _ = built_book
    lines = course.solution_lines()
    assert lines
    for page in sorted(html_dir.rglob("*.html")):
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(errors="replace")))
        shown = [line for line in lines if line in text]
        assert not shown, f"{page.name}: a graded solution shows: {shown[0]!r}"
