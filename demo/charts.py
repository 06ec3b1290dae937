"""Small inline SVG charts built from numbers only.

Every value written into the markup is a float formatted by Python or a fixed string, and
labels go through Django's escape, so the output is safe to render unescaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.html import escape

PI_WIDTH = 560
PI_HEIGHT = 240
PI_MARGIN_LEFT = 56
PI_MARGIN_RIGHT = 16
PI_MARGIN_TOP = 16
PI_MARGIN_BOTTOM = 36
# The y range shown, around pi: the first terms (4.0, 2.67, ...) are far off, so the chart
# clips them to keep the convergence near pi readable.
PI_Y_MIN = 2.9
PI_Y_MAX = 3.4


def _number(value: float) -> str:
    return f"{value:.2f}"


def pi_chart_svg(points: Sequence[Sequence[float]]) -> str:
    """Return an SVG line chart of Leibniz approximations against iterations on a log scale."""
    if not points:
        return ""
    plot_width = PI_WIDTH - PI_MARGIN_LEFT - PI_MARGIN_RIGHT
    plot_height = PI_HEIGHT - PI_MARGIN_TOP - PI_MARGIN_BOTTOM
    max_log = max(math.log10(max(float(points[-1][0]), 10.0)), 1.0)

    def x_of(iterations: float) -> float:
        return PI_MARGIN_LEFT + plot_width * math.log10(max(iterations, 1.0)) / max_log

    def y_of(value: float) -> float:
        clipped = min(max(value, PI_Y_MIN), PI_Y_MAX)
        return PI_MARGIN_TOP + plot_height * (PI_Y_MAX - clipped) / (PI_Y_MAX - PI_Y_MIN)

    line = " ".join(f"{_number(x_of(float(n)))},{_number(y_of(float(v)))}" for n, v in points)
    pi_y = _number(y_of(math.pi))
    bottom = PI_MARGIN_TOP + plot_height
    right = PI_MARGIN_LEFT + plot_width

    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {PI_WIDTH} {PI_HEIGHT}" role="img" '
            f'aria-label="Leibniz approximations of pi against the number of iterations">'
        ),
        f'<line class="chart-axis" x1="{PI_MARGIN_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
        f'<line class="chart-axis" x1="{PI_MARGIN_LEFT}" y1="{PI_MARGIN_TOP}" x2="{PI_MARGIN_LEFT}" y2="{bottom}"/>',
        f'<line class="chart-reference" x1="{PI_MARGIN_LEFT}" y1="{pi_y}" x2="{right}" y2="{pi_y}"/>',
        f'<text class="chart-label" x="{right}" y="{_number(float(pi_y) - 6)}" text-anchor="end">π</text>',
    ]
    for tick in (PI_Y_MIN, 3.0, 3.1, 3.2, 3.3, PI_Y_MAX):
        y = _number(y_of(tick))
        parts.append(
            f'<text class="chart-label" x="{PI_MARGIN_LEFT - 8}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{tick:.1f}</text>'
        )
    for exponent in range(int(max_log) + 1):
        x = _number(x_of(10.0**exponent))
        parts.append(f'<line class="chart-tick" x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 4}"/>')
        label = f"10{_superscript(exponent)}"
        parts.append(f'<text class="chart-label" x="{x}" y="{bottom + 18}" text-anchor="middle">{label}</text>')
    parts.append(f'<polyline class="chart-line" points="{line}"/>')
    parts.append(
        f'<text class="chart-label" x="{PI_MARGIN_LEFT + plot_width / 2:.0f}" y="{PI_HEIGHT - 2}" '
        f'text-anchor="middle">iterations (log scale)</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


_SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _superscript(number: int) -> str:
    return str(number).translate(_SUPERSCRIPT_DIGITS)


HISTOGRAM_WIDTH = 160
HISTOGRAM_HEIGHT = 40


def histogram_svg(counts: Sequence[int], label: str) -> str:
    """Return a bar chart of bin counts, sized to fit in a table cell."""
    if not counts:
        return ""
    highest = max(counts) or 1
    bar_width = HISTOGRAM_WIDTH / len(counts)
    bars = []
    for index, count in enumerate(counts):
        height = HISTOGRAM_HEIGHT * count / highest
        bars.append(
            f'<rect x="{_number(index * bar_width)}" y="{_number(HISTOGRAM_HEIGHT - height)}" '
            f'width="{_number(max(bar_width - 1, 0.5))}" height="{_number(height)}">'
            f"<title>{int(count):,}</title></rect>"
        )
    return (
        f'<svg class="histogram" viewBox="0 0 {HISTOGRAM_WIDTH} {HISTOGRAM_HEIGHT}" role="img" '
        f'aria-label="{escape(label)}">{"".join(bars)}</svg>'
    )
