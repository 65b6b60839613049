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
              width: int = 320, bar_height: int = 14, label_height: int = 20,
              gap: int = 12) -> Markup:
    """Each label sits on its own line above its bar, so the drawing can be narrow: 320 units
    wide, it is shown at about its own size on a phone (labels stay 14 px, never clipped) and
    scales up on a desktop."""
    if not rows:
        return Markup('<p class="text-body-secondary mb-0">No data yet.</p>')
    uid = next(_ids)
    top = max(value for _, value in rows) or 1
    value_width = 48
    track = width - value_width
    row_height = label_height + bar_height + gap
    height = len(rows) * row_height - gap
    description = ", ".join(f"{label}: {value_format.format(value)}" for label, value in rows)
    parts = [
        f'<svg class="bar-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="chart-t{uid} chart-d{uid}" preserveAspectRatio="xMinYMin meet">',
        f'<title id="chart-t{uid}">{escape(title)}</title>',
        f'<desc id="chart-d{uid}">{escape(description)}</desc>',
    ]
    for i, (label, value) in enumerate(rows):
        y = i * row_height
        bar_y = y + label_height
        length = max(2.0, track * (value / top)) if value else 0
        parts.append(
            f'<g class="bar-row bar-{i % 6}">'
            f'<text class="bar-label" x="0" y="{y + 14}">{escape(_short(label))}</text>'
            f'<rect class="bar-track" x="0" y="{bar_y}" width="{track}" '
            f'height="{bar_height}" rx="4"></rect>'
            f'<rect class="bar" x="0" y="{bar_y}" width="{length:.1f}" '
            f'height="{bar_height}" rx="4"></rect>'
            f'<text class="bar-value" x="{width}" y="{bar_y + bar_height - 2}" '
            f'text-anchor="end">{escape(value_format.format(value))}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(label: str, limit: int = 40) -> str:
    label = label.replace("_", " ")
    return label if len(label) <= limit else label[: limit - 1] + "…"
