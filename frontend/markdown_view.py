"""A deliberately small, safe markdown renderer for policy documents.

Policies use headings, paragraphs, lists and a little emphasis. Everything is
HTML-escaped first, so an uploaded file can never inject markup into a staff page.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
]
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _inline(text: str) -> str:
    html = str(escape(text))
    for pattern, replacement in _INLINE:
        html = pattern.sub(replacement, html)
    return html


def slug(text: str) -> str:
    """A heading's anchor: "Refund window" -> "refund-window" (links from answers land there)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def render(text: str, shift: int = 1) -> Markup:
    """`shift`: how many levels a heading moves down (1: the page's own title is the h1)."""
    out: list[str] = []
    used: set[str] = set()
    paragraph: list[str] = []
    list_tag: str | None = None

    def flush_paragraph():
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    def close_list():
        nonlocal list_tag
        if list_tag:
            out.append(f"</{list_tag}>")
            list_tag = None

    for line in text.splitlines():
        heading, bullet, numbered = _HEADING.match(line), _BULLET.match(line), _NUMBERED.match(line)
        if not line.strip():
            flush_paragraph()
            close_list()
        elif heading:
            flush_paragraph()
            close_list()
            level = min(len(heading.group(1)) + shift, 6)
            anchor = base = slug(heading.group(2))
            while anchor in used:
                anchor = f"{base}-{len(used)}"
            used.add(anchor)
            out.append(f'<h{level} id="{anchor}">{_inline(heading.group(2))}</h{level}>')
        elif bullet or numbered:
            flush_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                close_list()
                out.append(f"<{tag}>")
                list_tag = tag
            out.append(f"<li>{_inline((bullet or numbered).group(1))}</li>")
        else:
            close_list()
            paragraph.append(line.strip())
    flush_paragraph()
    close_list()
    return Markup("\n".join(out))
