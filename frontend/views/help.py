"""The public help centre: every policy as a readable article, and a search that uses the same
policy index as the assistant. No sign-in needed; answers link here."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from frontend.markdown_view import render
from frontend.services import help_centre
from frontend.state import get_state

bp = Blueprint("help", __name__, url_prefix="/help")
SEARCH_TIMEOUT_SECONDS = 8.0


@bp.route("/")
def index():
    state = get_state()
    folder = state.settings.policies_dir
    query = (request.args.get("q") or "").strip()[:200]
    hits, from_index = [], True
    if query:
        hits, from_index = help_centre.search(state.api, folder, query)
    return render_template("help/index.html", query=query, hits=hits, from_index=from_index,
                           articles=help_centre.articles(folder))


@bp.route("/<slug>")
def article(slug: str):
    folder = get_state().settings.policies_dir
    found = help_centre.article(folder, slug)
    text = help_centre.body(folder, found) if found else None
    if text is None:
        abort(404)
    # The article's own "# Title" is the page's h1; its "## Sections" are h2s.
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        text = "\n".join(lines[1:])
    return render_template("help/article.html", article=found, html=render(text, shift=0),
                           articles=help_centre.articles(folder))
