"""Reconciling the engine with a broker's realized gain/loss report: parsers and the comparison."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from lots.engine import BrokerRow, reconcile
from lots.engine.brokers import SCHWAB_LOT_DETAILS, SCHWAB_REALIZED, money, parse_broker_report
from lots.engine.csvio import InputErrors

from .scenario import HOUSEHOLD, run

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "broker-samples"


def sample(name: str) -> str:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"broker sample {name} is not here (../shared/data/broker-samples)")
    return path.read_text(encoding="utf-8-sig")


# his sells VOO at a loss; within 30 days his wife buys IVV (same index: substantially identical) and his
# IRA buys VOO. His broker sees neither: its 1099-B shows the sale with no wash sale.
CROSS_ACCOUNT = """
    b1,2025-01-02,his,VOO,buy,10,500.00
    s1,2025-03-03,his,VOO,sell,10,450.00
    w1,2025-03-10,hers,IVV,buy,6,452.00
    i1,2025-03-12,his_ira,VOO,buy,4,451.00
"""


def test_it_reports_the_wash_sales_the_broker_could_not_see():
    result = run(CROSS_ACCOUNT, identity=None)
    broker = [BrokerRow(None, "VOO", date(2025, 3, 3), Decimal(10), Decimal("4500.00"), Decimal("5000.00"),
                        Decimal("0.00"), date(2025, 1, 2), line=2)]
    rec = reconcile(result, broker, "his", accounts=HOUSEHOLD)
    (row,) = rec.rows
    assert (row.status, str(row.engine_disallowed), str(row.broker_disallowed), str(row.additional_disallowed)) == (
        "additional", "500.00", "0.00", "500.00")
    assert row.reasons == (
        "300.00 disallowed: replacement w1 in spouse's account hers, substantially identical IVV "
        "(group S&P 500 Index)",
        "200.00 lost for good: replacement i1 bought in IRA-type account his_ira",
    )
    assert rec.additional_disallowed == Decimal("500.00")
    assert rec.reported == {("s1", "b1")}


def test_a_same_account_same_fund_wash_sale_matches_the_broker():
    result = run("""
        b1,2025-01-02,his,VTI,buy,10,250.00
        s1,2025-03-03,his,VTI,sell,10,225.00
        b2,2025-03-10,his,VTI,buy,10,226.00
    """, identity=None)
    broker = [BrokerRow("his", "VTI", date(2025, 3, 3), Decimal(10), Decimal("2250.00"), Decimal("2500.00"),
                        Decimal("250.00"), date(2025, 1, 2))]
    (row,) = reconcile(result, broker).rows
    assert (row.status, row.reasons) == ("match", ())


def test_rows_found_on_one_side_only_are_listed():
    result = run("""
        b1,2025-01-02,his,VTI,buy,10,250.00
        s1,2025-03-03,his,VTI,sell,10,260.00
        s2,2026-01-05,his,VTI,sell,0,260.00
    """.replace("s2,2026-01-05,his,VTI,sell,0,260.00", ""), identity=None)
    broker = [BrokerRow("his", "AAPL", date(2025, 5, 1), Decimal(1), Decimal("200.00"), Decimal("150.00"))]
    rec = reconcile(result, broker)
    assert [(r.status, r.ticker) for r in rec.rows] == [("engine_only", "VTI"), ("broker_only", "AAPL")]


def test_a_transaction_level_report_is_compared_per_sale():
    # Schwab's GainLoss_Realized has no acquisition date: one row for a sale that relieved two lots.
    result = run("""
        b1,2025-01-02,his,VTI,buy,10,250.00
        b2,2025-01-03,his,VTI,buy,10,240.00
        s1,2025-03-03,his,VTI,sell,20,260.00
    """, identity=None)
    broker = [BrokerRow("his", "VTI", date(2025, 3, 3), Decimal(20), Decimal("5200.00"), Decimal("4900.00"))]
    (row,) = reconcile(result, broker).rows
    assert (row.status, str(row.engine_qty), str(row.engine_cost_basis), row.date_acquired) == (
        "match", "20", "4900.00", None)


def test_the_schwab_lot_details_export_is_read_with_its_account_and_period():
    report = parse_broker_report(sample("schwab_realized_lot_details.csv"), "lot details")
    assert (report.format, report.account_label, report.period) == (
        SCHWAB_LOT_DETAILS, "Individual_XXX123", (date(2025, 1, 1), date(2025, 12, 31)))
    assert [(r.ticker, str(r.quantity), str(r.wash_sale_disallowed), r.date_acquired) for r in report.rows][:3] == [
        ("VTI", "12.5", "0.00", date(2016, 11, 23)),
        ("ONDS", "200", "40.59", date(2025, 7, 2)),
        ("CIFR", "125", "101.25", date(2025, 10, 1)),
    ]
    assert len(report.rows) == 6  # the "Total" row is not a sale


def test_the_schwab_transaction_level_export_is_read_without_acquisition_dates():
    report = parse_broker_report(sample("schwab_realized_gain_loss.csv"), "realized")
    assert (report.format, report.account_label) == (SCHWAB_REALIZED, "IC_-_Main")
    assert all(r.date_acquired is None for r in report.rows)
    onds = [r for r in report.rows if r.ticker == "ONDS" and r.wash_sale_disallowed]
    assert [(str(r.proceeds), str(r.cost_basis), str(r.wash_sale_disallowed)) for r in onds] == [
        ("380.93", "421.52", "40.59")]


def test_reconciling_against_the_schwab_lot_details_sample():
    text = sample("schwab_realized_lot_details.csv")
    result = run("""
        t1,2025-01-02,his,VTI,transfer_in,12.5,,,,2016-11-23,1480.00
        s1,2025-03-14,his,VTI,sell,12.5,262.0992
        b1,2025-07-02,his,ONDS,buy,200,2.1076
        s2,2025-07-29,his,ONDS,sell,200,1.90465
        b2,2025-08-05,his,ONDS,buy,200,1.95
        b3,2025-10-01,his,CIFR,buy,125,16.60,0.25
        s3,2025-10-22,his,CIFR,sell,125,16.70,0.02
    """)
    report = parse_broker_report(text)
    rows = [replace(r, account="his") for r in report.rows]
    rec = reconcile(result, rows, period=report.period)
    by_ticker = {r.ticker: r for r in rec.rows}
    assert by_ticker["VTI"].status == "match"
    assert (by_ticker["ONDS"].status, str(by_ticker["ONDS"].engine_disallowed)) == ("match", "40.59")
    # The broker disallowed $101.25 on CIFR; with these trades the household engine finds no wash sale.
    assert (by_ticker["CIFR"].status, str(by_ticker["CIFR"].additional_disallowed)) == ("less", "-101.25")
    assert {r.status for r in rec.rows if r.ticker not in ("VTI", "ONDS", "CIFR")} == {"broker_only"}


def test_an_all_accounts_lot_details_file_carries_each_sections_account_label():
    header = ('"Symbol","Name","Closed Date","Opened Date","Quantity","Proceeds Per Share","Cost Per Share",'
              '"Proceeds","Cost Basis (CB)","Gain/Loss ($)","Gain/Loss (%)","Long Term Gain/Loss",'
              '"Short Term Gain/Loss","Term","Unadjusted Cost Basis","Wash Sale?","Disallowed Loss"')
    text = "\n".join([
        '"Realized Gain/Loss - Lot Details for All_Accounts as of Fri Jan 02  20:03:38 EST 2026 from '
        '01/01/2025 to 12/31/2025","",""',
        '"Individual ...119"', header,
        '"VTI","VANGUARD","03/14/2025","11/23/2016","12.5","$262.10","$118.40","$3,276.24","$1,480.00",'
        '"$1,796.24","121%","$1,796.24","","Long Term","$1,480.00","No",""',
        "",
        '"Joint ...222"', header,
        '"There are no transactions available for your search criteria."',
        '"Roth ...333"', header,
        '"IVV","ISHARES","04/01/2025","Various","2","$500.00","$510.00","$1,000.00","($1,020.00)",'
        '"-$20.00","-2%","","-$20.00","Short Term","$1,020.00","Yes","$20.00"',
        '"Total","","","","","","","$4,276.24"',
    ])
    report = parse_broker_report(text)
    assert [(r.account, r.ticker, r.date_acquired, str(r.cost_basis)) for r in report.rows] == [
        ("Individual ...119", "VTI", date(2016, 11, 23), "1480.00"),
        ("Roth ...333", "IVV", None, "-1020.00"),
    ]


def test_the_generic_report_format():
    text = ("account,ticker,date_acquired,date_sold,quantity,proceeds,cost_basis,wash_sale_disallowed\n"
            "his,VOO,2025-01-02,2025-03-03,10,4500.00,5000.00,\n")
    (row,) = parse_broker_report(text).rows
    assert row == BrokerRow("his", "VOO", date(2025, 3, 3), Decimal(10), Decimal("4500.00"), Decimal("5000.00"),
                            Decimal("0.00"), date(2025, 1, 2), 2)


def test_a_bad_generic_row_is_reported_with_its_row_and_column():
    text = ("ticker,date_sold,quantity,proceeds,cost_basis,wash_sale_disallowed\n"
            "VOO,03/03/2025,10,4500.00,5000.00,0\n")
    with pytest.raises(InputErrors) as exc:
        parse_broker_report(text, "report.csv")
    assert str(exc.value) == ("report.csv, row 2, column 'date_sold': not a date in YYYY-MM-DD form: "
                              "'03/03/2025'")


def test_broker_money_cells():
    assert money("$1,234.56") == Decimal("1234.56")
    assert money("-$20.00") == money("$-20.00") == money("(20.00)") == Decimal("-20.00")
    assert money('="12.00"') == Decimal("12.00")
    assert money("--") is money("N/A") is money("") is None
