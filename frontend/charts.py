"""Bar charts drawn on the server as inline SVG: no chart library, no script, no CDN.

Colours come from CSS classes (static/portal.css), so the charts follow the theme and
pass the content security policy; every chart has a title and a text description for
screen readers, and the view also prints the numbers as a table.
"""

from __future__ import annotations

import itertools

from markupsafe import Markup, escape

_ids = itertools.count(1)


def bar_chart(title: str, rows: list[tuple[str, int | float]], *, value_format: str = "{:g}",
              width: int = 560, bar_height: int = 26, gap: int = 10, label_width: int = 150) -> Markup:
    if not rows:
        return Markup('<p class="text-body-secondary mb-0">No data yet.</p>')
    uid = next(_ids)
    top = max(value for _, value in rows) or 1
    value_width = 70
    track = width - label_width - value_width
    height = len(rows) * (bar_height + gap) - gap
    description = ", ".join(f"{label}: {value_format.format(value)}" for label, value in rows)
    parts = [
        f'<svg class="bar-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="chart-t{uid} chart-d{uid}" preserveAspectRatio="xMinYMin meet">',
        f'<title id="chart-t{uid}">{escape(title)}</title>',
        f'<desc id="chart-d{uid}">{escape(description)}</desc>',
    ]
    for i, (label, value) in enumerate(rows):
        y = i * (bar_height + gap)
        length = max(2.0, track * (value / top)) if value else 0
        middle = y + bar_height / 2
        parts.append(
            f'<g class="bar-row bar-{i % 6}">'
            f'<text class="bar-label" x="{label_width - 8}" y="{middle}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(_short(label))}</text>'
            f'<rect class="bar-track" x="{label_width}" y="{y}" width="{track}" '
            f'height="{bar_height}" rx="4"></rect>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{length:.1f}" '
            f'height="{bar_height}" rx="4"></rect>'
            f'<text class="bar-value" x="{label_width + track + 8}" y="{middle}" '
            f'dominant-baseline="middle">{escape(value_format.format(value))}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(label: str, limit: int = 22) -> str:
    label = label.replace("_", " ")
    return label if len(label) <= limit else label[: limit - 1] + "…"
