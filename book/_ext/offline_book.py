"""A Sphinx extension that keeps the built book self-contained: it works from any static server
with no internet.

- MathJax: ``sphinx-mathjax-offline`` (listed beside this extension in ``_config.yml``) copies
  MathJax 3 into ``_static/mathjax`` and points ``mathjax_path`` at it.
- Thebe: Jupyter Book 1 always loads ``sphinx_thebe``, which declares ``const THEBE_JS_URL``
  twice on every page (a console error) and points at unpkg.com. The book has no Binder, so
  live code is off: its scripts and stylesheet are removed from every page.
- Colour mode: the theme logs a console error when no mode was ever chosen; ``auto`` is the
  theme's own fallback, made explicit.
"""

from __future__ import annotations

from sphinx.application import Sphinx

THEBE_MARK = "thebe"


def _is_thebe(asset) -> bool:
    name = getattr(asset, "filename", None) or ""
    body = getattr(asset, "attributes", {}).get("body", "") or ""
    return THEBE_MARK in name.lower() or THEBE_MARK in body.lower()


def drop_thebe(app: Sphinx, pagename, templatename, context, doctree) -> None:
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [a for a in context[key] if not _is_thebe(a)]


def default_colour_mode(app: Sphinx, config) -> None:
    # pydata-sphinx-theme reads the mode from html_context, not from the theme options
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "auto")
    config.html_context = context


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", default_colour_mode)
    # after sphinx_thebe and the theme have added their assets
    app.connect("html-page-context", drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
