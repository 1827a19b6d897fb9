"""Price files and staleness: pure parts of lots/prices.py and lots/importers/prices.py."""

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from lots.importers import ImportFileError
from lots.importers.prices import parse_prices, ticker_from_name
from lots.prices import is_stale, stale_message

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_friday_close_is_fresh_until_three_trading_days_have_passed():
    friday = date(2026, 11, 20)
    assert not is_stale(friday, date(2026, 11, 25), 3)  # Mon, Tue, Wed
    assert is_stale(friday, date(2026, 11, 27), 3)  # + Fri (Thanksgiving closed): 4
    assert not is_stale(friday, date(2026, 11, 22), 0)  # a weekend adds no trading day
    assert is_stale(None, date(2026, 11, 22), 3)


def test_the_stale_message_says_how_old_and_what_to_do():
    assert stale_message("VTI", date(2026, 11, 24), date(2026, 11, 25), 3) is None
    message = stale_message("VTI", date(2026, 11, 16), date(2026, 11, 25), 3)
    assert message == ("VTI: the latest close is from 2026-11-16, 7 trading days before 2026-11-25 (the limit is 3). "
                       "Import fresh prices before scanning.")
    assert "no close on record" in stale_message("VTI", None, date(2026, 11, 25), 3)


def test_it_reads_the_three_price_layouts():
    own = parse_prices((FIXTURES / "prices.csv").read_text(), name="prices.csv")
    assert own.format == "csv" and len(own.closes) == 4
    yahoo = parse_prices((FIXTURES / "VTI.csv").read_text(), name="VTI.csv")
    assert yahoo.format == "yahoo" and yahoo.skipped == 1
    assert [(c.ticker, c.date, c.close) for c in yahoo.closes] == [
        ("VTI", date(2026, 11, 20), D("300.25")), ("VTI", date(2026, 11, 23), D("301.50"))]  # Close, not Adj Close
    stooq = parse_prices((FIXTURES / "bnd_us_d.csv").read_text(), name="bnd_us_d.csv")
    assert stooq.format == "stooq" and {c.ticker for c in stooq.closes} == {"BND"}
    bulk = parse_prices((FIXTURES / "stooq_bulk.txt").read_text(), name="stooq_bulk.txt")
    assert [(c.ticker, c.date) for c in bulk.closes] == [("VTI", date(2026, 11, 20)), ("VEA", date(2026, 11, 20))]


def test_it_names_bad_price_rows():
    with pytest.raises(ImportFileError) as exc:
        parse_prices("date,ticker,close\n2026-11-20,VTI,-1\n2026-13-01,VTI,300\n2026-11-20,VTI,300\n", name="p.csv")
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "close"), (3, "date")]
    with pytest.raises(ImportFileError, match="already given on row 2"):
        parse_prices("date,ticker,close\n2026-11-20,VTI,300\n2026-11-20,VTI,301\n", name="p.csv")


@pytest.mark.parametrize(("name", "ticker"), [("VTI.csv", "VTI"), ("vti_us_d.csv", "VTI"), ("brk-b.us.txt", "BRK-B"),
                                              ("/tmp/x/VEA.csv", "VEA")])
def test_it_takes_a_download_s_ticker_from_its_file_name(name, ticker):
    assert ticker_from_name(name) == ticker
