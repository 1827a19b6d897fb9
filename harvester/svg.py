"""Server-side charts as inline SVG: no JavaScript library, no CDN, readable without colour.

    svg = bar_chart(chart_id="realized", title="Realized gains and losses by year", categories=["2025", "2026"],
                    series=[Series("Short-term", "hatch", [Decimal("-100"), Decimal("50")]), ...])

Accessibility: the <svg> is role="img" with a <title> and <desc>; every bar and point carries its own
<title> with the exact value; each series has a distinct fill pattern (solid, hatching, dots,
cross-hatching) shown in a legend with its name, and the value is written next to the bar. Pages always
put a table with the same figures beside the chart.

Amounts arrive as Decimal. They are turned into floats only to place shapes: every float in this module is
a drawing coordinate in SVG user units, never money. Labels and titles format the Decimal itself.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from harvester.money import to_cents

PATTERNS = ("hatch", "dots", "solid", "cross")
INK = "#1d3557"  # one dark ink for every series: patterns, not hues, tell series apart
PAPER = "#ffffff"


@dataclass(frozen=True)
class Series:
    name: str
    pattern: str
    values: Sequence[Decimal | None]


@dataclass(frozen=True)
class Line:
    """A line drawn over the bars (e.g. a running total), with a marker and a label at each point."""

    name: str
    values: Sequence[Decimal | None]
    dashed: bool = True


def money_text(value: Decimal) -> str:
    """Exact: −$1,234.50 (the minus sign is U+2212, as in the tables)."""
    amount = to_cents(value)
    return f"{'−' if amount < 0 else ''}${abs(amount):,.2f}"


def money_short(value: Decimal) -> str:
    """Compact, for labels on the chart: −$1.2k, $3.4M, $850, $0.25."""
    amount = abs(value)
    sign = "−" if value < 0 else ""
    if amount < 10 and amount != amount.to_integral_value():
        return f"{sign}${amount.quantize(Decimal('0.01')):f}"
    for size, suffix in ((Decimal("1e9"), "B"), (Decimal("1e6"), "M"), (Decimal("1e3"), "k")):
        if amount >= size:
            scaled = (amount / size).quantize(Decimal("0.1"))
            text = f"{scaled:f}".rstrip("0").rstrip(".")
            return f"{sign}${text}{suffix}"
    return f"{sign}${amount.quantize(Decimal('1')):f}"


def percent_text(value: Decimal) -> str:
    return f"{'−' if value < 0 else ''}{abs(value).quantize(Decimal('0.01')):f}%"


def _nice_step(span: Decimal, ticks: int = 4) -> Decimal:
    """A round step (1, 2 or 5 times a power of ten) that cuts `span` into about `ticks` parts."""
    if span <= 0:
        return Decimal(1)
    raw = span / ticks
    exponent = raw.adjusted()
    base = Decimal(10) ** exponent
    for mult in (1, 2, 5, 10):
        if base * mult >= raw:
            return base * mult
    return base * 10


@dataclass
class _Layout:
    width: float
    height: float
    left: float = 64.0
    right: float = 12.0
    top: float = 16.0
    bottom: float = 58.0
    low: Decimal = Decimal(0)
    high: Decimal = Decimal(1)
    ticks: list[Decimal] = field(default_factory=list)

    def y(self, value: Decimal) -> float:
        span = self.high - self.low
        plot = self.height - self.top - self.bottom
        return self.top + float((self.high - value) / span) * plot


def _defs(chart_id: str) -> str:
    p = escape(chart_id)
    return (
        "<defs>"
        f'<pattern id="{p}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{PAPER}"/><line x1="0" y1="0" x2="0" y2="6" stroke="{INK}" stroke-width="2.5"/>'
        "</pattern>"
        f'<pattern id="{p}-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{PAPER}"/><circle cx="3" cy="3" r="1.6" fill="{INK}"/></pattern>'
        f'<pattern id="{p}-cross" width="7" height="7" patternUnits="userSpaceOnUse">'
        f'<rect width="7" height="7" fill="{PAPER}"/><path d="M0 0L7 7M7 0L0 7" stroke="{INK}" stroke-width="1.2"/>'
        "</pattern>"
        "</defs>"
    )


def _fill(chart_id: str, pattern: str) -> str:
    return INK if pattern == "solid" else f"url(#{escape(chart_id)}-{escape(pattern)})"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    lines: Sequence[Line] = (),
    fmt: Callable[[Decimal], str] = money_text,
    short_fmt: Callable[[Decimal], str] = money_short,
    height: int = 260,
) -> SafeString:
    """Grouped bars, one group per category, one bar per series; negative values hang below the zero line."""
    values = [v for s in series for v in s.values if v is not None] + [
        v for ln in lines for v in ln.values if v is not None
    ]
    low = min([Decimal(0), *values])
    high = max([Decimal(0), *values])
    if low == high:  # nothing to show: an empty 0-100 frame rather than a scale of cents
        high = low + 100
    step = _nice_step(high - low)
    low = (low / step).to_integral_value(rounding="ROUND_FLOOR") * step
    high = (high / step).to_integral_value(rounding="ROUND_CEILING") * step
    n_series = max(len(series), 1)
    group = max(28.0 * n_series + 24.0, 56.0)
    legend_width = 64.0 + 150.0 * min(len(series) + len(lines), 3) + 20.0
    width = max(64.0 + 12.0 + group * max(len(categories), 1), legend_width, 360.0)
    layout = _Layout(width=width, height=float(height), low=low, high=high)
    tick, layout.ticks = low, []
    while tick <= high:
        layout.ticks.append(tick)
        tick += step

    cid = escape(chart_id)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" id="{cid}" '
        f'viewBox="0 0 {layout.width:.0f} {layout.height + 24 * ((len(series) + len(lines) + 2) // 3):.0f}" '
        f'preserveAspectRatio="xMinYMin meet" width="{layout.width:.0f}" aria-labelledby="{cid}-title {cid}-desc" '
        f'font-family="system-ui, sans-serif" font-size="11">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
        _defs(chart_id),
    ]
    # Grid and axis labels.
    for t in layout.ticks:
        y = layout.y(t)
        dash = "" if t == 0 else ' stroke-dasharray="2 3"'
        out.append(
            f'<line x1="{layout.left:.1f}" y1="{y:.1f}" x2="{layout.width - layout.right:.1f}" y2="{y:.1f}" '
            f'stroke="{INK if t == 0 else "#9aa5b1"}" stroke-width="{1.2 if t == 0 else 0.6}"{dash}/>'
        )
        out.append(
            f'<text x="{layout.left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{escape(short_fmt(t))}</text>'
        )
    zero = layout.y(Decimal(0))
    bar_w = (group - 24.0) / n_series
    for ci, category in enumerate(categories):
        x0 = layout.left + ci * group + 12.0
        out.append(f'<g class="category" data-category="{escape(category)}">')
        for si, s in enumerate(series):
            value = s.values[ci] if ci < len(s.values) else None
            x = x0 + si * bar_w
            if value is None:
                out.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{zero - 4:.1f}" text-anchor="middle" fill="#555">'
                    f"<title>{escape(category)}, {escape(s.name)}: no figure</title>n/a</text>"
                )
                continue
            y = layout.y(value)
            top, h = (y, zero - y) if value >= 0 else (zero, y - zero)
            label = f"{category}, {s.name}: {fmt(value)}"
            out.append(
                f'<rect x="{x + 1:.1f}" y="{top:.1f}" width="{bar_w - 2:.1f}" height="{max(h, 0.5):.1f}" '
                f'fill="{_fill(chart_id, s.pattern)}" stroke="{INK}" stroke-width="1" '
                f'data-series="{escape(s.name)}" data-value="{escape(str(value))}"><title>{escape(label)}</title></rect>'
            )
            ty = top - 3 if value >= 0 else top + h + 11
            out.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{ty:.1f}" text-anchor="middle" font-size="9" fill="#111" '
                f'aria-hidden="true">{escape(short_fmt(value))}</text>'
            )
        out.append(
            f'<text x="{x0 + (group - 24.0) / 2:.1f}" y="{layout.height - layout.bottom + 28:.1f}" '
            f'text-anchor="middle" fill="#111">{escape(category)}</text>'
        )
        out.append("</g>")
    for line in lines:
        points = []
        for ci, value in enumerate(line.values):
            if value is None:
                continue
            x = layout.left + ci * group + group / 2
            points.append((x, layout.y(value), value, categories[ci]))
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
        dash = ' stroke-dasharray="5 3"' if line.dashed else ""
        out.append(f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="1.6"{dash}/>')
        for x, y, value, category in points:
            out.append(
                f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{PAPER}" stroke="{INK}" '
                f'stroke-width="1.5" data-series="{escape(line.name)}" data-value="{escape(str(value))}">'
                f"<title>{escape(f'{category}, {line.name}: {fmt(value)}')}</title></rect>"
            )
    # Legend: a swatch with the series' pattern and its name, three to a row.
    ly = layout.height - 14
    for i, item in enumerate([*series, *lines]):
        col, row = i % 3, i // 3
        x = layout.left + col * 150
        y = ly + row * 20
        if isinstance(item, Series):
            swatch = (
                f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="14" height="14" fill="{_fill(chart_id, item.pattern)}" '
                f'stroke="{INK}"/>'
            )
        else:
            swatch = (
                f'<line x1="{x - 2:.1f}" y1="{y - 3:.1f}" x2="{x + 16:.1f}" y2="{y - 3:.1f}" stroke="{INK}" '
                f'stroke-width="1.6" stroke-dasharray="5 3"/><rect x="{x + 3.5:.1f}" y="{y - 6.5:.1f}" width="7" '
                f'height="7" fill="{PAPER}" stroke="{INK}" stroke-width="1.5"/>'
            )
        out.append(f'<g class="legend">{swatch}<text x="{x + 20:.1f}" y="{y + 1:.1f}" fill="#111">{escape(item.name)}</text></g>')
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text above is escaped
