"""Every page of the built book in a real browser, served from 127.0.0.1 with no internet.

Debian's Chromium driven by Playwright (no browser download: ``executable_path``). Per page:
no console error, no failed request, no request to another host (they are aborted, as a
firewall would, and recorded), every image loaded, math typeset by the book's own MathJax
wherever the page has math, every static slider changes its frame when moved, and every live
decoder loads, and changes its canvas when any of its sliders moves (its decode time is
measured in the page and reported, not asserted). Full-page
screenshots go to ``.test-artifacts/browser/`` (not committed). ``make test`` installs Chromium
with apt-get where it can; elsewhere this module is skipped with the reason.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / ".test-artifacts" / "browser"
CHROMIUM = os.environ.get("BOOK_CHROMIUM") or shutil.which("chromium") or ""
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is a dev dependency: make install"
)
if not CHROMIUM:
    pytest.skip(
        "no Chromium on PATH: `make test` installs Debian's `chromium` with apt-get where it "
        "can (root or passwordless apt); elsewhere install it, or point BOOK_CHROMIUM at one",
        allow_module_level=True,
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".woff2": "font/woff2",
    }

    def log_message(self, *args):  # keep the test log readable
        pass


@pytest.fixture(scope="module")
def served_book(built_book):
    html, _, _ = built_book
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield html, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


def _pages(html: Path) -> list[str]:
    """Every page a reader can reach, Sphinx's index and search pages included."""
    pages = [str(p.relative_to(html)) for p in html.rglob("*.html")]
    return sorted(p for p in pages if not p.startswith("_"))


# Runs in the page once it has loaded: waits for MathJax and every image, then reports.
_INSPECT = """async () => {
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  const images = [...document.images];
  images.forEach(i => { i.loading = 'eager'; });
  await Promise.all(images.map(i => i.decode().catch(() => null)));
  const math = document.querySelectorAll('.math, span.math, div.math').length;
  return {
    images: images.length,
    brokenImages: images.filter(i => !(i.naturalWidth > 0)).map(i => i.src.slice(0, 80)),
    mathNodes: math,
    typeset: document.querySelectorAll('mjx-container').length,
    rawTex: (document.querySelector('article') || document.body).innerText
      .includes('\\\\('),
    sliders: document.querySelectorAll('input.anim-slider').length,
  };
}"""

# Moves every static slider (matplotlib's player) to its last frame and back; counts the ones
# whose image changed.
_MOVE_SLIDERS = """() => [...document.querySelectorAll('input.anim-slider')].map(s => {
  const img = document.getElementById(s.id.replace('_anim_slider', '_anim_img'));
  const before = img.src;
  s.value = s.max; s.dispatchEvent(new Event('input'));
  const after = img.src;
  s.value = 0; s.dispatchEvent(new Event('input'));
  return {frames: Number(s.max) + 1, changed: after !== before && img.src === before};
})"""


# Every live decoder (lib/live.py): wait until it has left "loading", move each of its sliders
# to the far end of its range and back, compare the canvas, then time 200 decodes in the page.
_LIVE = """async () => {
  const idle = async (api, n) => {
    const t0 = performance.now();
    while (api.times.length === n && performance.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 10));
  };
  const out = [];
  for (const root of document.querySelectorAll(".live-decoder")) {
    const api = root.liveDecoder, canvas = root.querySelector("canvas");
    const res = {state: root.dataset.liveState, error: api ? api.error : "no script ran",
                 firstFrameMs: api ? api.firstFrameMs : null, sliders: 0, changed: 0,
                 fallbackHidden: root.querySelector(".live-fallback").style.display === "none"};
    out.push(res);
    if (res.state !== "ready") continue;
    for (const input of root.querySelectorAll("input.live-slider")) {
      const before = canvas.toDataURL(), start = input.value;
      const low = +input.value - +input.min, high = +input.max - +input.value;
      let n = api.times.length;
      input.value = low > high ? input.min : input.max;
      input.dispatchEvent(new Event("input"));
      await idle(api, n);
      res.sliders += 1;
      if (canvas.toDataURL() !== before) res.changed += 1;
      n = api.times.length;
      input.value = start;
      input.dispatchEvent(new Event("input"));
      await idle(api, n);
    }
    const times = (await api.bench(200)).sort((a, b) => a - b);
    res.meanMs = times.reduce((a, b) => a + b, 0) / times.length;
    res.p95Ms = times[Math.floor(0.95 * times.length)];
  }
  return out;
}"""
LIVE_LOADED = (
    "[...document.querySelectorAll('.live-decoder')]"
    ".every(e => e.dataset.liveState !== 'loading')"
)


def _watch(page, host: str) -> dict[str, list[str]]:
    """Record the page's console errors and failed requests; abort and record any request to
    a host other than ``host`` (as a firewall would)."""
    seen = {"errors": [], "failed": [], "foreign": []}
    page.on(
        "console",
        lambda m: seen["errors"].append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: seen["errors"].append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.on(
        "response",
        lambda r: (
            seen["failed"].append(f"{r.status} {r.url}") if r.status >= 400 else None
        ),
    )

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == host:
            request_route.continue_()
        else:
            seen["foreign"].append(url)
            request_route.abort()

    page.route("**/*", route)
    return seen


def _visit(browser, base: str, name: str) -> tuple[str, list[str]]:
    """Open one page, check it, save its screenshot; return its report line and problems."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen = _watch(page, urlsplit(base).netloc)
    page.goto(base + name, wait_until="load")
    if name == "index.html":  # a meta-refresh to the landing page: follow it
        page.wait_for_url("**/book/intro.html", wait_until="load")
    facts = page.evaluate(_INSPECT)
    moved = page.evaluate(_MOVE_SLIDERS)
    page.wait_for_function(LIVE_LOADED, timeout=60_000)
    live = page.evaluate(_LIVE)
    page.wait_for_timeout(200)  # let late console messages arrive
    shot = ARTIFACTS / (name.replace("/", "__").removesuffix(".html") + ".png")
    page.screenshot(path=str(shot), full_page=True)
    page.close()

    still = sum(not m["changed"] for m in moved)
    row = (
        f"{name}: console errors {len(seen['errors'])}, failed requests "
        f"{len(seen['failed'])}, other hosts {len(seen['foreign'])}, images "
        f"{facts['images']} (broken {len(facts['brokenImages'])}), math nodes "
        f"{facts['mathNodes']} (typeset {facts['typeset']}), sliders moved "
        f"{len(moved) - still}/{len(moved)}"
    )
    if live:
        ready = sum(d["state"] == "ready" for d in live)
        row += f", live decoders ready {ready}/{len(live)}"
        for d in live:
            if d["state"] == "ready":
                row += (
                    f" [sliders changing the canvas {d['changed']}/{d['sliders']}, "
                    f"decode {d['meanMs']:.2f} ms mean / {d['p95Ms']:.2f} ms p95, "
                    f"first frame {d['firstFrameMs']:.0f} ms]"
                )
    wrong = seen["errors"] + seen["failed"]
    wrong += [f"other host: {u}" for u in seen["foreign"]]
    wrong += [f"broken image {s}" for s in facts["brokenImages"]]
    if facts["mathNodes"] and (facts["typeset"] == 0 or facts["rawTex"]):
        wrong.append("math not typeset")
    if still:
        wrong.append(f"{still} slider(s) did not change their frame")
    for d in live:
        if d["state"] != "ready":
            wrong.append(f"live decoder {d['state']}: {d['error']}")
        elif d["changed"] < d["sliders"] or not d["fallbackHidden"]:
            wrong.append(
                f"live decoder: {d['changed']}/{d['sliders']} sliders change it"
            )
    return row, [f"{name}: {w}" for w in wrong]


def test_every_page_in_chromium_offline(served_book, browser):
    html, base = served_book
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report, problems = [], []
    for name in _pages(html):
        row, wrong = _visit(browser, base, name)
        report.append(row)
        problems += wrong
    (ARTIFACTS / "report.txt").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    assert len(report) >= 9, report  # landing page, six chapters, index, search
    assert not problems, "\n".join(problems[:40])


def test_the_check_sees_a_foreign_request_and_a_console_error(served_book, browser):
    """The harness itself can fail: a page that asks another host and logs an error."""
    html, base = served_book
    probe = html / "_probe.html"
    probe.write_text(
        '<img src="https://example.org/x.png"><script>console.error("boom")</script>'
    )
    page = browser.new_page()
    seen = _watch(page, urlsplit(base).netloc)
    page.goto(base + "_probe.html", wait_until="load")
    page.close()
    probe.unlink()
    assert "boom" in seen["errors"]
    assert seen["foreign"] == ["https://example.org/x.png"]


def test_a_live_decoder_falls_back_to_the_player_without_its_runtime(
    served_book, browser
):
    """As in a viewer without the book's files: ONNX Runtime Web is unreachable."""
    html, base = served_book
    name = "notebooks/00_introduction.html"
    page = browser.new_page()
    page.route("**/_static/ort/**", lambda route: route.abort())
    page.goto(base + name, wait_until="load")
    page.wait_for_function(LIVE_LOADED, timeout=60_000)
    states = page.evaluate(
        """[...document.querySelectorAll('.live-decoder')].map(e => [
            e.dataset.liveState,
            getComputedStyle(e.querySelector('.live-fallback')).display,
            getComputedStyle(e.querySelector('.live-panel')).display])"""
    )
    moved = page.evaluate(_MOVE_SLIDERS)
    page.close()
    assert states and all(s == ["failed", "block", "none"] for s in states), states
    assert moved and all(m["changed"] for m in moved), "the fallback player must work"
