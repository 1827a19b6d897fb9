"""Charts: valid-looking SVG, exact values in titles, patterns and labels instead of colour, escaped text."""

from decimal import Decimal
from xml.etree import ElementTree

from harvester import svg

NS = "{http://www.w3.org/2000/svg}"


def chart(**kw):
    args = dict(
        chart_id="t", title="Realized <by> year", description="desc & more", categories=["2025", "2026"],
        series=[svg.Series("Short-term", "hatch", [Decimal("-1234.5"), Decimal("50")]),
                svg.Series("Long-term", "dots", [Decimal("0"), None])],
    )
    args.update(kw)
    return svg.bar_chart(**args)


def test_it_is_well_formed_and_labelled():
    root = ElementTree.fromstring(str(chart()))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "t-title t-desc"
    assert root.find(f"{NS}title").text == "Realized <by> year"
    titles = [t.text for t in root.iter(f"{NS}title")]
    assert "2025, Short-term: −$1,234.50" in titles and "2026, Long-term: no figure" in titles


def test_series_differ_by_pattern_and_have_a_legend():
    text = str(chart())
    assert 'id="t-hatch"' in text and 'id="t-dots"' in text
    assert 'fill="url(#t-hatch)"' in text and 'fill="url(#t-dots)"' in text
    assert ">Short-term</text>" in text and ">Long-term</text>" in text


def test_negative_bars_hang_below_the_zero_line():
    root = ElementTree.fromstring(str(chart()))
    bars = {r.get("data-value"): r for r in root.iter(f"{NS}rect") if r.get("data-series") == "Short-term"}
    zero_line = next(ln for ln in root.iter(f"{NS}line") if ln.get("stroke-width") == "1.2")
    zero = float(zero_line.get("y1"))
    assert float(bars["-1234.5"].get("y")) == zero  # starts at zero, grows down
    assert float(bars["50"].get("y")) + float(bars["50"].get("height")) == zero


def test_lines_and_percent_formats():
    text = str(chart(lines=[svg.Line("Cumulative", [Decimal("1"), Decimal("2")])], fmt=svg.percent_text))
    assert "<polyline" in text and "2026, Cumulative: 2.00%" in text


def test_short_labels():
    assert svg.money_short(Decimal("-1234.5")) == "−$1.2k"
    assert svg.money_short(Decimal("3400000")) == "$3.4M"
    assert svg.money_short(Decimal("850")) == "$850"


def test_an_empty_chart_still_renders():
    root = ElementTree.fromstring(str(chart(categories=[], series=[svg.Series("x", "solid", [])])))
    assert root.tag == f"{NS}svg"
