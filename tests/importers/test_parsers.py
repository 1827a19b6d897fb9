"""The importers read each custodian's export into normalized records (BROKER_FORMATS.md). No database."""

from collections import Counter
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from lots.importers import (
    ImportFileError,
    UnsupportedFile,
    content_fingerprints,
    decode_upload,
    detect_format,
    parse_file,
)
from lots.importers.base import money, parse_day, plain

FIXTURES = Path(__file__).parent / "fixtures"


def read(name: str):
    text = decode_upload((FIXTURES / name).read_bytes(), name=name)
    return parse_file(text, name=name)


def actions(result):
    return Counter(r.action for r in result.records)


def reasons(result):
    return Counter(s.reason for s in result.skipped)


@pytest.mark.parametrize(("name", "fmt"), [
    ("generic_trades.csv", "generic"),
    ("generic_opening.csv", "generic"),
    ("Joint_XXX876_Transactions_20250503-142105.csv", "schwab_transactions"),
    ("schwab_2025.csv", "schwab_transactions"),
    ("Individual_GainLoss_Realized_Details_20260102-200338.csv", "schwab_realized_lots"),
    ("VTI_lot_details.csv", "schwab_open_lots"),
    ("schwab_positions.csv", "schwab_positions"),
    ("History_for_Account_X12345678.csv", "fidelity_history"),
    ("fidelity_all_accounts.csv", "fidelity_history"),
    ("Portfolio_Positions_Feb-18-2025.csv", "fidelity_positions"),
    ("OfxDownload.csv", "vanguard"),
    ("vanguard_legacy.csv", "vanguard"),
    ("ibkr_trades.xml", "ibkr_flex"),
    ("ibkr_positions.xml", "ibkr_flex"),
    ("statement.qfx", "ofx"),
    ("statement_v2.ofx", "ofx"),
])
def test_it_detects_the_format_from_the_content(name, fmt):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    assert detect_format(text, name) == fmt
    assert detect_format(text, "renamed.txt") == fmt  # never from the file name


def test_it_reads_the_generic_csv_like_the_wash_sale_cli():
    result = read("generic_trades.csv")
    assert result.format == "generic" and result.kind == "transactions" and result.accounts == ("brokerage",)
    assert actions(result) == {"buy": 3, "sell": 1, "reinvest": 1}
    sell = result.records[2]
    assert (sell.row, sell.date, sell.ticker, sell.quantity, sell.price, sell.fees, sell.custodian_id, sell.lot_id) == (
        4, date(2025, 3, 3), "VTI", D("4"), D("240.00"), D("0.50"), "t3", "t2")


def test_it_reads_opening_lots_with_their_acquisition_date_and_basis():
    result = read("generic_opening.csv")
    assert result.kind == "opening"
    lot = result.records[0]
    assert (lot.action, lot.date, lot.acquired_date, lot.basis, lot.quantity, lot.opening) == (
        "transfer_in", date(2024, 12, 31), date(2019, 5, 1), D("3100.00"), D("20"), True)
    assert lot.price == D("155.000000")  # average cost when the price is left empty


def test_it_reports_every_bad_row_with_row_column_and_reason():
    with pytest.raises(ImportFileError) as exc:
        read("generic_bad.csv")
    problems = {(p.row, p.column) for p in exc.value.problems}
    assert {(3, "date"), (4, "quantity"), (5, "action"), (5, "price")} <= problems
    assert "generic_bad.csv, row 3, column 'date': not a valid date: '2025-13-01'" in str(exc.value)


def test_it_refuses_an_unknown_generic_column():
    with pytest.raises(ImportFileError, match="column 'qty': unknown column"):
        parse_file("date,ticker,action,quantity,qty,price\n2025-01-02,VTI,buy,1,1,100\n", name="x.csv")


def test_it_reads_schwab_transactions_of_the_older_layout():
    result = read("Joint_XXX876_Transactions_20250503-142105.csv")
    assert result.accounts == ("Joint Brokerage ...876",)
    assert actions(result) == {"buy": 3, "sell": 1, "reinvest": 1}
    assert reasons(result) == {"cash": 3, "option": 1}
    sell = next(r for r in result.records if r.action == "sell")
    assert sell.date == date(2025, 4, 17)  # "04/18/2025 as of 04/17/2025": the trade date
    assert (sell.quantity, sell.price, sell.fees) == (D("3"), D("260.00"), D("0.02"))
    # two identical same-day buys are two purchases
    assert sum(1 for r in result.records if r.date == date(2025, 4, 2)) == 2


def test_it_reads_schwab_transactions_of_the_2025_layout():
    result = read("schwab_2025.csv")
    assert actions(result) == {"buy": 4, "sell": 1}
    assert reasons(result) == {"option": 1, "corporate_action": 1, "transfer": 1}
    big = next(r for r in result.records if r.date == date(2025, 11, 20))
    assert big.quantity == D("1000")  # "1,000"
    sell = next(r for r in result.records if r.action == "sell")
    assert sell.quantity == D("5")  # a negative Sell quantity: the Action gives the side


def test_it_reads_schwab_realized_lot_details_as_closed_lots():
    result = read("Individual_GainLoss_Realized_Details_20260102-200338.csv")
    assert result.kind == "closed_lots" and result.accounts == ("Individual ...119",)
    assert reasons(result) == {"various_dates": 1, "option": 1}
    lot, sale = result.records[0], result.records[1]
    assert (lot.action, lot.date, lot.acquired_date, lot.basis) == ("transfer_in", date(2016, 11, 23),
                                                                     date(2016, 11, 23), D("1480.00"))
    assert (sale.action, sale.date, sale.quantity, sale.lot_ref) == ("sell", date(2025, 3, 14), D("12.5"), 0)
    assert sale.price == D("262.099200")  # Proceeds / Quantity


def test_it_refuses_schwab_realized_gain_loss_without_acquisition_dates():
    text = ('"Realized Gain/Loss for X for 01/01/2025 to 12/31/2025 as of Fri Jan 02 2026",""\n'
            '"Symbol","Name","Closed Date","Quantity","Closing Price","Cost Basis Method","Proceeds",'
            '"Cost Basis (CB)","Wash Sale?","Disallowed Loss"\n"VTI","V","03/14/2025","1","$1","FIFO","$1","$1","No",""\n')
    with pytest.raises(UnsupportedFile, match="no acquisition dates.*Lot Details"):
        parse_file(text, name="GainLoss_Realized.csv")


def test_it_reads_schwab_open_lots_as_opening_lots_as_of_the_title_date():
    result = read("VTI_lot_details.csv")
    assert result.kind == "opening" and result.as_of == date(2025, 9, 25)
    assert [(r.ticker, r.quantity, r.acquired_date, r.basis, r.date) for r in result.records] == [
        ("VTI", D("20"), date(2025, 9, 24), D("5451.20"), date(2025, 9, 25)),
        ("VTI", D("10"), date(2023, 8, 24), D("2213.50"), date(2025, 9, 25)),
    ]


def test_it_reads_schwab_positions_of_the_newer_layout():
    result = read("schwab_positions.csv")
    assert result.as_of == date(2026, 5, 3)  # "2026/05/03" in the title
    assert [(r.ticker, r.quantity, r.basis, r.acquired_date) for r in result.records] == [
        ("VTI", D("1066.35"), D("250000.00"), None)]
    assert reasons(result) == {"no_basis": 1}  # BND's Cost Basis is "--"


def test_it_reads_fidelity_history_of_a_single_account():
    result = read("History_for_Account_X12345678.csv")
    assert result.accounts == ("X12345678",)
    assert actions(result) == {"buy": 1, "sell": 1, "reinvest": 1}
    assert reasons(result) == {"cash": 2, "money_market": 1}
    sell = next(r for r in result.records if r.action == "sell")
    assert (sell.quantity, sell.price, sell.fees) == (D("4"), D("270.10"), D("0.02"))


def test_it_reads_fidelity_history_of_all_accounts():
    result = read("fidelity_all_accounts.csv")
    assert set(result.accounts) == {"111111111", "333333333", "444444444"}
    assert reasons(result) == {"cash": 2, "bond": 1}
    assert {(r.account, r.action) for r in result.records} == {
        ("111111111", "reinvest"), ("333333333", "buy"), ("333333333", "sell")}


def test_it_reads_fidelity_positions_as_of_the_download_date():
    result = read("Portfolio_Positions_Feb-18-2025.csv")
    assert result.as_of == date(2025, 2, 18) and result.kind == "opening"
    assert {(r.account, r.ticker, r.basis) for r in result.records} == {
        ("Z12345678", "VTI", D("7000.00")), ("Z12345678", "BND", D("6278.26")), ("238765432", "VEA", D("5000.00"))}
    assert reasons(result) == {"money_market": 1, "option": 1, "cash": 1, "no_basis": 1}


def test_it_reads_vanguard_both_layouts():
    modern = read("OfxDownload.csv")
    assert actions(modern) == {"buy": 2, "sell": 1, "reinvest": 1} and set(modern.accounts) == {"12345678", "87654321"}
    assert reasons(modern) == {"cash": 3}  # sweeps and the dividend
    legacy = read("vanguard_legacy.csv")
    buy = legacy.records[0]
    assert (buy.price, buy.fees) == (D("60.000000"), D("7.00"))


def test_it_reads_ibkr_flex_trades():
    result = read("ibkr_trades.xml")
    assert [(r.custodian_id, r.action, r.quantity, r.price, r.fees, r.time) for r in result.records] == [
        ("900001", "buy", D("10"), D("270.25"), D("1"), "101502"),
        ("900002", "buy", D("5"), D("269.00"), D("1"), "093000"),
        ("900003", "sell", D("12"), D("280.5"), D("1.0523"), "140211"),
    ]
    assert reasons(result) == {"currency": 1, "option": 1, "cash": 1, "corporate_action": 1}
    assert result.records[0].row == 5  # the element's line


def test_it_reads_ibkr_flex_open_positions_at_lot_level():
    result = read("ibkr_positions.xml")
    assert result.kind == "opening" and result.as_of == date(2025, 12, 31)
    assert [(r.acquired_date, r.quantity, r.basis) for r in result.records] == [
        (date(2023, 3, 3), D("10"), D("2500")), (date(2025, 9, 15), D("5"), D("1332.5"))]


def test_it_refuses_xml_with_entity_declarations():
    text = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><FlexQueryResponse><FlexStatements/></FlexQueryResponse>'
    with pytest.raises(ImportFileError, match="DOCTYPE"):
        parse_file(text, name="evil.xml")


def test_it_reads_ofx_with_ofxtools():
    result = read("statement.qfx")
    assert [(r.custodian_id, r.action, r.ticker, r.quantity, r.fees) for r in result.records] == [
        ("B-0001", "buy", "VTI", D("10"), D("0.5")), ("S-0001", "sell", "VTI", D("4"), D("1")),
        ("R-0001", "reinvest", "BND", D("0.3425"), D("0"))]
    # 23:00 EST on July 14 is July 15 in UTC: the trade date is the custodian's own date
    assert result.records[0].date == date(2025, 7, 14)
    assert reasons(result) == {"cash": 2, "option": 1}


def test_it_reads_an_ofx_transfer_in_with_its_cost_basis():
    result = read("statement_v2.ofx")
    moved = next(r for r in result.records if r.action == "transfer_in")
    assert (moved.quantity, moved.basis, moved.acquired_date) == (D("5"), D("350.00"), date(2022, 3, 15))
    assert reasons(result) == {"transfer": 1}


def test_it_refuses_what_it_does_not_know_with_the_list_of_formats():
    with pytest.raises(UnsupportedFile, match="not recognized. Supported"):
        parse_file("a,b,c\n1,2,3\n", name="x.csv")
    with pytest.raises(UnsupportedFile, match="empty"):
        parse_file("  \n", name="x.csv")


def test_it_checks_uploads_are_text():
    with pytest.raises(UnsupportedFile, match="Excel workbook"):
        decode_upload(b"PK\x03\x04rest", name="x.xlsx")
    with pytest.raises(UnsupportedFile, match="NUL"):
        decode_upload(b"abc\x00def", name="x.bin")
    with pytest.raises(UnsupportedFile, match="the limit is 20 MB"):
        decode_upload(b"a" * (20 * 1024 * 1024 + 1), name="big.csv")
    assert decode_upload("caf\u00e9".encode("cp1252"), name="x.csv") == "caf\u00e9"
    assert decode_upload("\ufeffdate".encode(), name="x.csv") == "date"


@pytest.mark.parametrize(("text", "value"), [
    ("$1,234.56", D("1234.56")), ("-$20.00", D("-20.00")), ("$-20.00", D("-20.00")), ("($1,500.00)", D("-1500.00")),
    ("+$1.04", D("1.04")), ("12%", D("12")), ('="12.00"', D("12.00")), ("1,379.23 ", D("1379.23")), ("200.", D("200.0")),
    ("--", None), ("N/A", None), ("", None), ("-2.637591265E-4", D("-0.0002637591265")),
])
def test_money_reads_broker_numbers(text, value):
    assert money(text) == value


def test_money_refuses_text():
    with pytest.raises(ValueError):
        money("twelve")


@pytest.mark.parametrize(("text", "day"), [
    ("04/18/2025", date(2025, 4, 18)), ("4/8/2025", date(2025, 4, 8)), ("04/18/2025 as of 04/17/2025", date(2025, 4, 17)),
    ("2025-04-18", date(2025, 4, 18)), ("20250418", date(2025, 4, 18)), ("20250418;101502", date(2025, 4, 18)),
    ("09/24/2020 13:42:07", date(2020, 9, 24)), ("2013-03-05, 19:45:00", date(2013, 3, 5)), ("Feb-18-2025", date(2025, 2, 18)),
])
def test_parse_day_reads_every_date_form(text, day):
    assert parse_day(text) == day


def test_fingerprints_keep_identical_rows_apart_and_are_stable():
    result = read("Joint_XXX876_Transactions_20250503-142105.csv")
    first = content_fingerprints(list(result.records))
    assert len(set(first)) == len(first)  # the two identical buys differ by their ordinal
    assert first == content_fingerprints(list(read("Joint_XXX876_Transactions_20250503-142105.csv").records))
    a = parse_file("date,ticker,action,quantity,price\n2025-01-02,VTI,buy,45,100\n", name="a.csv")
    b = parse_file("date,ticker,action,quantity,price\n2025-01-02,VTI,buy,45.000,100.00\n", name="b.csv")
    assert content_fingerprints(list(a.records)) == content_fingerprints(list(b.records))


def test_fingerprints_do_not_change_from_one_version_to_the_next():
    # Transactions already on record carry these: a changed hash would import the same trades twice.
    result = parse_file("date,ticker,action,quantity,price,fees,acquired_date,basis\n"
                        "2025-01-02,VTI,buy,45.000,100.10,0.50,,\n"
                        "2025-01-02,VTI,buy,45,100.1,0.5,,\n"
                        "2025-01-03,BND,transfer_in,2.5,,,2020-01-01,180.20\n", name="a.csv")
    assert content_fingerprints(list(result.records)) == [
        "c1:acc8bde81909ad0d6f5c6773f3e279781e731854",
        "c1:7f4c61fe3c4ae5b30a633653e550c61c465bac37",  # the same trade again: ordinal 1
        "c1:7bcb373b81aa4769adb09abf53ebd0e640e9d32b",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("45", "45"), ("45.000", "45"), ("0.50", "0.5"), ("100", "100"), ("1E+2", "100"), ("-1.50", "-1.5"),
    ("0.000", "0"), ("1E-9", "0.000000001"), ("123.456", "123.456"),
])
def test_plain_writes_a_number_without_exponent_or_trailing_zeros(text, expected):
    assert plain(D(text)) == expected


def test_generic_rows_with_spaces_or_capitals_read_like_plain_rows():
    header = "trade_id,date,account,ticker,action,quantity,price,fees\n"
    tidy = parse_file(header + "t1,2025-01-02,brk,VTI,buy,10,250.00,\nt2,2025-01-03,brk,VTI,sell,4,251,0.5\n", name="a")
    loose = parse_file(header + " t1 , 2025-01-02 ,brk , vti ,Buy, 10 ,250.00,  \nt2,2025-01-03,brk,VTI, SELL,4,251 ,0.5\n",
                       name="a")
    assert loose.records == tidy.records and loose.accounts == tidy.accounts == ("brk",)
    assert tidy.records[0].fees == D(0)
