"""The engine's shortcuts agree with the plain definitions they stand for (docs/wash_sales.md, "How it
runs fast"): the inline tacked holding period, the 365/366-day test of the term, the relief of a lot
that absorbed no loss, and the release of the working state without the cyclic collector."""

import gc
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from lots.engine import Account, OversellError, Trade, compute, holding_term
from lots.engine.bench import IDENTITY, generate
from lots.engine.core import _tacked_fast, _tacked_start, _term

ACCOUNTS = [Account("his", "alex", "smith", "taxable")]


def test_the_inline_tacked_start_is_the_documented_one():
    for replacement in range(0, 80):
        for sold_start in range(0, 80):
            for sale in range(0, 80):
                assert _tacked_fast(replacement, sold_start, sale) == _tacked_start(replacement, sold_start, sale)


def test_the_term_of_a_sale_is_the_calendar_one_around_every_anniversary():
    # Every start date of four years (two February 29ths around), sold 364 to 368 days later.
    trades = []
    expected = {}
    start = date(2023, 1, 1)
    for n in range(4 * 366):
        bought = start + timedelta(days=n)
        for days in range(364, 369):
            ticker = f"T{n}-{days}"
            sold = bought + timedelta(days=days)
            trades += [Trade(f"b{ticker}", bought, "his", ticker, "buy", Decimal(1), Decimal(10)),
                       Trade(f"s{ticker}", sold, "his", ticker, "sell", Decimal(1), Decimal(12))]
            expected[f"s{ticker}"] = holding_term(bought, sold)
            assert _term(bought.toordinal(), sold.toordinal()) == expected[f"s{ticker}"]
    trades.sort(key=lambda t: t.date)
    result = compute(ACCOUNTS, trades, identity={})
    assert {s.sell_trade: s.term for s in result.sales} == expected


def test_a_lot_sold_by_specific_identification_reports_what_it_holds_as_written():
    # The usual lot (no wash-sale pieces) is checked without adding anything up; when it holds too
    # little, the message shows the same sum as always (0 + 1E+1 is written 10).
    trades = [
        Trade("b1", date(2024, 1, 2), "his", "X", "buy", Decimal("1E+1"), Decimal(10)),
        Trade("b2", date(2024, 1, 3), "his", "X", "buy", Decimal("5.50"), Decimal(10)),
        Trade("s1", date(2024, 1, 4), "his", "X", "sell", Decimal("10.5"), Decimal(10), lot_id="b1"),
    ]
    with pytest.raises(OversellError) as error:
        compute(ACCOUNTS, trades, identity={})
    assert error.value.message == "sell of 10.5 X from lot 'b1', which holds only 10"
    assert error.value.trade_id == "s1"


@pytest.mark.parametrize("method", ["fifo", "hifo", "specific"])
def test_compute_leaves_no_reference_cycle_behind(method):
    accounts, trades = generate(3000, seed=11)
    if method == "hifo":  # the generator names lots relieved first in, first out: under HIFO, name none
        trades = [replace(t, lot_id=None) for t in trades]
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        result = compute(accounts, trades, identity=IDENTITY, lot_method=method)
        assert result.adjustments and result.open_lots
        del result
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
