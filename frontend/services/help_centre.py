"""The public help centre: the policy documents under readable titles and addresses, searched
with the assistant's own policy index (the API's GET /policies/search).

Customers never see file names: `refund_policy.md` is "Refund Policy" at /help/refund-policy,
and a citation "refund_policy.md › Refund window" links to /help/refund-policy#refund-window.
If the API cannot answer, a plain word search over the same documents keeps the page useful.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from frontend.api_client import ApiClient, ApiError, ApiUnavailable
from frontend.markdown_view import slug
from frontend.services.policies import list_policies, read_policy


@dataclass(frozen=True)
class Article:
    slug: str
    name: str  # the file, for reading it; never shown
    title: str


@dataclass(frozen=True)
class Hit:
    article: Article
    section: str
    anchor: str
    excerpt: str


def doc_slug(file_name: str) -> str:
    return slug(file_name.removesuffix(".md"))


def articles(policies_dir: Path) -> list[Article]:
    return [Article(doc_slug(p.name), p.name, p.title) for p in list_policies(policies_dir)]


def article(policies_dir: Path, wanted: str) -> Article | None:
    return next((a for a in articles(policies_dir) if a.slug == wanted), None)


def body(policies_dir: Path, found: Article) -> str | None:
    return read_policy(policies_dir, found.name)


def citation(policies_dir: Path, source: str | None, section: str | None) -> dict | None:
    """A policy source as a customer reads it: title, section and a link; None if unknown."""
    known = {a.name: a for a in articles(policies_dir)}
    found = known.get(source or "")
    if found is None:
        return None
    anchor = slug(section) if section else ""
    return {"title": found.title, "section": section or "", "slug": found.slug, "anchor": anchor}


def _excerpt(text: str, limit: int = 260) -> str:
    text = " ".join((text or "").split())
    text = re.sub(r"^#+\s*[^.]*?\s{2,}", "", text)
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def search(api: ApiClient, policies_dir: Path, query: str, limit: int = 5) -> tuple[list[Hit], bool]:
    """(hits, from_index): the assistant's own search, or a word search when the API is down."""
    by_name = {a.name: a for a in articles(policies_dir)}
    try:
        answer = api.search_policies(query, k=limit)
    except (ApiUnavailable, ApiError):
        return _word_search(policies_dir, by_name, query, limit), False
    hits, seen = [], set()
    for raw in answer.get("hits") or []:
        found = by_name.get(str(raw.get("source")))
        section = str(raw.get("section") or "")
        if found is None or (found.slug, section) in seen:
            continue
        seen.add((found.slug, section))
        body_text = str(raw.get("text") or "")
        if body_text.lstrip().startswith("#"):
            body_text = body_text.split("\n", 1)[-1]
        hits.append(Hit(found, section, slug(section), _excerpt(body_text)))
    return hits, True


def _sections(text: str) -> list[tuple[str, str]]:
    parts, heading, lines = [], "", []
    for line in text.splitlines():
        if line.startswith("## "):
            if lines:
                parts.append((heading, "\n".join(lines)))
            heading, lines = line[3:].strip(), []
        elif not line.startswith("# "):
            lines.append(line)
    if lines:
        parts.append((heading, "\n".join(lines)))
    return parts


def _word_search(policies_dir: Path, by_name: dict[str, Article], query: str,
                 limit: int) -> list[Hit]:
    words = {w for w in re.findall(r"[a-z0-9]+", query.lower()) if len(w) > 2}
    scored = []
    for name, found in by_name.items():
        for heading, text in _sections(read_policy(policies_dir, name) or ""):
            lower = (heading + " " + text).lower()
            score = sum(lower.count(w) for w in words) + 3 * sum(w in heading.lower()
                                                                 for w in words)
            if score:
                scored.append((score, Hit(found, heading, slug(heading), _excerpt(text))))
    scored.sort(key=lambda pair: -pair[0])
    return [hit for _, hit in scored[:limit]]


_SOURCE_NOTE = re.compile(r"\s*\(Source: (?P<title>[^—()]+?) — [“\"'](?P<section>[^”\"]+)[”\"']\.?\)\s*$")


def split_citation(policies_dir: Path, text: str) -> tuple[str, dict | None]:
    """An answer ending "(Source: Refund policy — “Refund window”.)" -> the answer without it and
    that section as a help-centre link, shown once under the answer instead of twice."""
    found = _SOURCE_NOTE.search(text or "")
    if found is None:
        return text, None
    wanted = found["title"].strip().lower()
    for a in articles(policies_dir):
        name = a.name.removesuffix(".md").replace("_", " ").lower()
        if wanted in (name, a.title.lower()):
            cited = citation(policies_dir, a.name, found["section"].strip())
            if cited:
                return text[:found.start()].rstrip(), cited
    return text, None
