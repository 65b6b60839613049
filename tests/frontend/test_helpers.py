"""The small pure pieces behind the pages: the order picker's text, the policy renderer and
the charts (both must escape what they are given), and the API client's error mapping."""

from __future__ import annotations

import re

import pytest

from frontend.api_client import ApiClient, ApiUnavailable
from frontend.charts import bar_chart
from frontend.markdown_view import render
from frontend.services.support import with_picked_order

OWN = ["1001", "1002", "A-77"]


@pytest.mark.parametrize("text,picked,expected", [
    ("It arrived broken", "1001", "It arrived broken (order #1001)"),
    ("  It arrived broken  ", "1001", "It arrived broken (order #1001)"),
    ("Refund 1001 please", "1002", "Refund 1001 please"),
    ("Refund order #1002 please", "1001", "Refund order #1002 please"),
    ("What about order 9999?", "1001", "What about order 9999?"),
    ("Where is A-77?", "1001", "Where is A-77?"),
    ("I ordered 2 lamps", "1001", "I ordered 2 lamps (order #1001)"),
    ("It arrived broken", None, "It arrived broken"),
    ("It arrived broken", "2001", "It arrived broken"),  # not one of theirs: ignored
])
def test_a_picked_order_is_added_only_when_the_text_names_none(text, picked, expected):
    assert with_picked_order(text, picked, OWN) == expected


def test_policy_markdown_renders_structure_and_escapes_html():
    html = str(render("# Title\n\nSome **bold** and *soft* text\nwrapped.\n\n- one\n- two\n\n"
                      "1. first\n\n<script>alert(1)</script> & more"))
    assert '<h2 id="title">Title</h2>' in html
    assert "<p>Some <strong>bold</strong> and <em>soft</em> text wrapped.</p>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html and "<ol>\n<li>first</li>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html and "<script>" not in html


def test_bar_chart_scales_bars_and_escapes_labels():
    svg = str(bar_chart("Tickets <by> intent", [("refund", 4), ("<b>x</b>", 2), ("none", 0)],
                        width=560))
    assert svg.startswith('<svg class="bar-chart"') and 'role="img"' in svg
    assert "Tickets &lt;by&gt; intent" in svg and "<b>" not in svg
    widths = [float(w) for w in re.findall(r'class="bar" [^>]*width="([\d.]+)"', svg)]
    assert widths == [512.0, 256.0, 0.0]  # 560 wide, less 48 for the value
    assert 'class="bar-label" x="0"' in svg  # labels above the bars: full width on a phone
    assert str(bar_chart("Empty", [])) == '<p class="text-body-secondary mb-0">No data yet.</p>'


def test_api_client_turns_a_refused_connection_into_api_unavailable(closed_port):
    client = ApiClient(f"http://127.0.0.1:{closed_port}", "key", timeout=2)
    with pytest.raises(ApiUnavailable, match="unreachable"):
        client.resolve(user_input="hi", user_id=1)
