"""Input checks: engine errors, CSV parsing, identity groups, money helpers."""

from datetime import date
from decimal import Decimal

import pytest

from lots.engine import (
    Account,
    InvalidAccountError,
    InvalidTradeError,
    OversellError,
    Trade,
    UnknownAccountError,
    UnknownLotError,
    compute,
    default_identity,
)
from lots.engine.csvio import InputErrors, parse_identity, parse_trades
from lots.engine.money import anniversary
from lots.engine.report import describe

from .scenario import HOUSEHOLD, trades

D = Decimal


def buy(tid="b1", account="his", qty="10", day=date(2024, 1, 2), **kw):
    return Trade(tid, day, account, "X", "buy", D(qty), D("10"), **kw)


@pytest.mark.parametrize(("bad", "error", "field"), [
    ([buy(), buy()], InvalidTradeError, "trade_id"),
    ([buy(account="nobody")], UnknownAccountError, "account"),
    ([buy(qty="0")], InvalidTradeError, "quantity"),
    ([Trade("b1", date(2024, 1, 2), "his", "X", "buy", 10.5, D("1"))], InvalidTradeError, "quantity"),
    ([buy(fees=D("-1"))], InvalidTradeError, "fees"),
    ([buy(lot_id="b0")], InvalidTradeError, "lot_id"),
    ([buy(basis=D("5"))], InvalidTradeError, "basis"),
    ([Trade("b1", date(2024, 1, 2), "his", "X", "short", D(1), D(1))], InvalidTradeError, "action"),
    ([buy(), Trade("s1", date(2024, 1, 3), "his", "X", "sell", D("10.5"), D(1))], OversellError, "quantity"),
    ([buy(), Trade("s1", date(2024, 1, 3), "hers", "X", "sell", D(1), D(1), lot_id="b1")], OversellError, "quantity"),
    ([buy(), buy("b2", "hers"), Trade("s1", date(2024, 1, 3), "hers", "X", "sell", D(1), D(1), lot_id="b1")],
     UnknownLotError, "lot_id"),
])
def test_invalid_trades_raise_an_engine_error_naming_the_trade(bad, error, field):
    with pytest.raises(error) as exc:
        compute(HOUSEHOLD, bad, identity={})
    assert exc.value.field == field
    assert exc.value.trade_id == bad[-1].trade_id


def test_the_error_reported_is_the_first_invalid_trade_in_execution_order():
    # The engine checks trades bucket by bucket (taxpayer unit, identity group) and runs each bucket
    # once checked; whichever bucket fails first, the error is the one of the earliest invalid trade.
    oversell = Trade("s1", date(2024, 1, 3), "his", "X", "sell", D("20"), D("10"))
    other_bucket = Trade("b2", date(2024, 1, 4), "trust", "Y", "buy", D("-1"), D("10"))
    unknown = Trade("b3", date(2024, 1, 5), "nobody", "Y", "buy", D("1"), D("10"))
    cases = [
        ([buy(), oversell, other_bucket], InvalidTradeError, "b2", "quantity"),
        ([buy(), oversell, buy(day=date(2024, 1, 5))], InvalidTradeError, "b1", "trade_id"),
        ([buy(), other_bucket, buy(day=date(2024, 1, 5))], InvalidTradeError, "b2", "quantity"),
        ([buy(), oversell, unknown], UnknownAccountError, "b3", "account"),
        ([buy(), buy(day=date(2024, 1, 4)), unknown], InvalidTradeError, "b1", "trade_id"),
        ([buy(), oversell], OversellError, "s1", "quantity"),
    ]
    for rows, error, trade_id, field in cases:
        with pytest.raises(error) as exc:
            compute(HOUSEHOLD, rows, identity={})
        assert (exc.value.trade_id, exc.value.field) == (trade_id, field)
        assert exc.value.__suppress_context__ or exc.value.__context__ is None  # raised on its own


def test_invalid_accounts_and_lot_methods():
    with pytest.raises(InvalidAccountError):
        compute([Account("a", "o", "u", "pension")], [])
    with pytest.raises(InvalidAccountError):
        compute([Account("a", "o", "u", "ira"), Account("a", "o", "u", "ira")], [])
    with pytest.raises(ValueError):
        compute(HOUSEHOLD, [], lot_method="lifo")


def test_the_engine_does_not_depend_on_the_callers_decimal_context():
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = decimal.ROUND_DOWN
        result = compute(HOUSEHOLD, trades("""
            b1,2024-01-02,his,X,buy,10.123456,33.3333
            s1,2024-02-01,his,X,sell,3.3,35.555
        """), identity={})
    assert (str(result.sales[0].proceeds), str(result.sales[0].cost_basis)) == ("117.33", "110.00")


def test_the_built_in_universe_groups_by_tracked_index():
    identity = default_identity()
    assert identity.group_on("VOO", date(2024, 1, 2)) == identity.group_on("IVV", date(2024, 1, 2)) == "S&P 500 Index"
    assert identity.group_on("AGG", date(2024, 1, 2)) == identity.group_on("SCHZ", date(2024, 1, 2))
    assert identity.group_on("VTI", date(2024, 1, 2)) != identity.group_on("ITOT", date(2024, 1, 2))
    assert identity.group_on("ZZZZ", date(2024, 1, 2)) == "ZZZZ"  # unknown: its own group
    assert identity.group_on("VXUS", date(2013, 6, 3)) == "FTSE Global All Cap ex US Index"
    assert identity.group_on("VXUS", date(2013, 6, 2)) != "FTSE Global All Cap ex US Index"


def test_identity_csv_with_dated_groups():
    identity = parse_identity("ticker,group,since\nvxus,old index,\nVXUS,new index,2013-06-03\n")
    assert identity.group_on("VXUS", date(2013, 1, 1)) == "old index"
    assert identity.group_on("VXUS", date(2014, 1, 1)) == "new index"
    with pytest.raises(InputErrors, match="row 3, column 'ticker': VXUS already has a group"):
        parse_identity("ticker,group\nVXUS,a\nVXUS,b\n", "identity.csv")


def test_trades_csv_quirks():
    # A BOM, upper/lower case, a trailing empty cell, and optional columns left out.
    rows, lines = parse_trades("\ufefftrade_id,date,account,ticker,action,quantity,price\n"
                               "b1,2024-01-02,his,vti,BUY,1.5,10,\n", "t.csv")
    assert (rows[0].ticker, rows[0].action, rows[0].fees, lines) == ("VTI", "buy", 0, {"b1": 2})
    with pytest.raises(InputErrors, match="column 'colour': unknown column"):
        parse_trades("trade_id,date,account,ticker,action,quantity,price,colour\n", "t.csv")
    with pytest.raises(InputErrors, match="row 2, column 'lot_id': lot_id is only allowed on a sell"):
        parse_trades("trade_id,date,account,ticker,action,quantity,price,lot_id\nb1,2024-01-02,a,X,buy,1,1,b0\n")
    with pytest.raises(InputErrors, match="acquired_date 2024-02-01 is after the trade date 2024-01-02"):
        parse_trades("trade_id,date,account,ticker,action,quantity,price,acquired_date,basis\n"
                     "t1,2024-01-02,a,X,transfer_in,1,,2024-02-01,5\n")
    with pytest.raises(InputErrors, match="row 2, column 'price': empty"):
        parse_trades("trade_id,date,account,ticker,action,quantity,price\nt1,2024-01-02,a,X,transfer_in,1,\n")


def test_anniversaries():
    assert anniversary(date(2024, 2, 29)) == date(2025, 2, 28)
    assert anniversary(date(2023, 6, 15)) == date(2024, 6, 15)


def test_form_8949_descriptions():
    assert describe(D("10.5"), "VTI") == "10.5 sh VTI"
    assert describe(D("100"), "VTI") == "100 sh VTI"
    assert describe(D("1E+2"), "VTI") == "100 sh VTI"
    assert describe(D("0.001200"), "X") == "0.0012 sh X"


def test_the_garbage_collector_is_restored_even_when_compute_fails():
    import gc

    assert gc.isenabled()
    with pytest.raises(OversellError):
        compute(HOUSEHOLD, [Trade("s1", date(2024, 1, 3), "his", "X", "sell", D(1), D(1))], identity={})
    assert gc.isenabled()
    gc.disable()
    try:
        compute(HOUSEHOLD, [buy()], identity={})
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
