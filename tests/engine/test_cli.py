"""The wash_sales command line, through lots.engine.cli.main (the management command only wraps it)."""

import csv
import io
import json
from pathlib import Path

import pytest

from lots.engine.cli import main

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "broker-samples"

ACCOUNTS = """account,owner,taxpayer,kind
his,alex,smith,taxable
hers,jordan,smith,taxable
his_ira,alex,smith,ira
"""
TRADES = """trade_id,date,account,ticker,action,quantity,price,fees,lot_id
b1,2024-01-02,his,VOO,buy,10,500.00,0,
s1,2024-03-01,his,VOO,sell,10,450.00,0,
b2,2024-03-10,hers,IVV,buy,6,452.00,0,
i1,2024-03-12,his_ira,VOO,buy,4,451.00,0,
i2,2024-05-01,his_ira,VOO,sell,4,440.00,0,
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def cli(tmp_path, *args, accounts=ACCOUNTS, trades=TRADES):
    out, err = io.StringIO(), io.StringIO()
    argv = ["--accounts", write(tmp_path, "accounts.csv", accounts),
            "--trades", write(tmp_path, "trades.csv", trades), *args]
    code = main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def test_it_prints_form_8949_rows_by_default(tmp_path):
    code, out, err = cli(tmp_path)
    assert (code, err) == (0, "")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["part"], r["box"], r["description"], r["date_acquired"], r["date_sold"], r["proceeds"],
             r["cost_basis"], r["code"], r["adjustment"], r["gain_loss"]) for r in rows] == [
        ("I", "C", "10 sh VOO", "2024-01-02", "2024-03-01", "4500.00", "5000.00", "W", "500.00", "0.00"),
    ]  # the IRA sale i2 is not reportable


def test_it_prints_the_full_result_as_json(tmp_path):
    code, out, _ = cli(tmp_path, "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert set(data) == {"sales", "adjustments", "open_lots", "totals"}
    assert data["sales"][0] == {
        "sell_trade": "s1", "buy_trade": "b1", "account": "his", "ticker": "VOO", "qty": "10",
        "date_acquired": "2024-01-02", "date_sold": "2024-03-01", "proceeds": "4500.00", "cost_basis": "5000.00",
        "wash_sale_disallowed": "500.00", "code": "W", "gain_loss": "0.00", "term": "short", "tax_year": 2024,
        "reportable": True, "holding_period_start": "2024-01-02", "wash_basis_adjustment": "0.00",
    }
    assert [(a["replacement_trade"], a["disallowed"], a["kind"]) for a in data["adjustments"]] == [
        ("b2", "300.00", "deferred"), ("i1", "200.00", "permanent")]
    assert data["open_lots"] == [{
        "account": "hers", "ticker": "IVV", "buy_trade": "b2", "acquired_date": "2024-03-10", "qty": "6",
        "adjusted_basis": "3012.00", "holding_period_start": "2024-01-11", "wash_sale_adjustment": "300.00",
    }]
    assert data["totals"]["2024"]["permanent"] == "200.00"


def test_with_out_it_writes_the_files_and_lists_them(tmp_path):
    out_dir = tmp_path / "out"
    code, out, _ = cli(tmp_path, "--out", str(out_dir))
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["form8949.csv", "result.json"]
    assert out == f"wrote {out_dir / 'result.json'}\nwrote {out_dir / 'form8949.csv'}\n"
    assert json.loads((out_dir / "result.json").read_text())["sales"][0]["code"] == "W"


def test_identity_file_replaces_the_built_in_universe(tmp_path):
    identity = write(tmp_path, "identity.csv", "ticker,group\nVOO,sp500\nIVV,other\n")
    _, out, _ = cli(tmp_path, "--format", "json", "--identity", identity)
    assert [a["replacement_trade"] for a in json.loads(out)["adjustments"]] == ["i1"]


BAD_INPUTS = [
    ("unknown account", TRADES.replace("b2,2024-03-10,hers", "b2,2024-03-10,nobody"),
     "trades.csv, row 4, column 'account': unknown account 'nobody' (not in the accounts file)"),
    ("sell of more than held", TRADES.replace("s1,2024-03-01,his,VOO,sell,10", "s1,2024-03-01,his,VOO,sell,11"),
     "trades.csv, row 3, column 'quantity': sell of 11 VOO in account his, which holds only 10"),
    ("lot_id naming no buy", TRADES.replace("sell,10,450.00,0,", "sell,10,450.00,0,zz"),
     "trades.csv, row 3, column 'lot_id': lot_id 'zz' names no earlier buy of VOO in account his"),
    ("lot_id naming another account's buy", TRADES.replace("sell,4,440.00,0,", "sell,4,440.00,0,b1"),
     "trades.csv, row 6, column 'lot_id': lot_id 'b1' names no earlier buy of VOO in account his_ira"),
    ("negative quantity", TRADES.replace("buy,6,452.00", "buy,-6,452.00"),
     "trades.csv, row 4, column 'quantity': negative quantity -6"),
    ("bad date", TRADES.replace("2024-03-10", "2024-02-30"),
     "trades.csv, row 4, column 'date': not a valid date: '2024-02-30'"),
    ("date in another form", TRADES.replace("2024-03-10", "03/10/2024"),
     "trades.csv, row 4, column 'date': not a date in YYYY-MM-DD form: '03/10/2024'"),
    ("bad decimal", TRADES.replace("452.00", "$452"),
     "trades.csv, row 4, column 'price': not a decimal number: '$452'"),
    ("missing column", TRADES.replace("trade_id,date,account,ticker,action,quantity,price,fees,lot_id",
                                      "trade_id,date,account,ticker,action,quantity,fees,lot_id"),
     "trades.csv, row 1, column 'price': missing column"),
    ("unknown action", TRADES.replace("reinvest", "x").replace(",buy,6,", ",purchase,6,"),
     "trades.csv, row 4, column 'action': unknown action 'purchase' (expected buy, sell, reinvest or transfer_in)"),
]


@pytest.mark.parametrize(("case", "trades", "message"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_names_file_row_column_and_reason_and_writes_nothing(tmp_path, case, trades, message):
    out_dir = tmp_path / "out"
    code, out, err = cli(tmp_path, "--out", str(out_dir), trades=trades)
    assert code == 2
    assert out == ""
    assert message in err
    assert str(tmp_path / "trades.csv") in err
    assert not out_dir.exists()


def test_all_problems_of_a_file_are_reported_together(tmp_path):
    trades = TRADES.replace("2024-03-10", "2024-13-01").replace("452.00", "4.5.2")
    code, _, err = cli(tmp_path, trades=trades)
    assert code == 2
    assert "row 4, column 'date'" in err and "row 4, column 'price'" in err


def test_bad_accounts_file(tmp_path):
    code, _, err = cli(tmp_path, accounts=ACCOUNTS.replace("his_ira,alex,smith,ira", "his_ira,alex,smith,pension"))
    assert code == 2
    assert "accounts.csv, row 4, column 'kind': unknown kind 'pension'" in err


def test_a_missing_file(tmp_path):
    err = io.StringIO()
    code = main(["--accounts", str(tmp_path / "nope.csv"), "--trades", str(tmp_path / "t.csv")], io.StringIO(), err)
    assert code == 2
    assert f"{tmp_path / 'nope.csv'}: accounts file not found" in err.getvalue()


def test_bad_arguments_exit_2(tmp_path):
    err = io.StringIO()
    assert main(["--trades", "x.csv"], io.StringIO(), err) == 2
    assert "--accounts" in err.getvalue()
    code, _, err_text = cli(tmp_path, "--lot-method", "lifo")
    assert code == 2 and "invalid choice: 'lifo'" in err_text


def test_a_sell_that_identifies_no_lot_under_specific_identification_is_first_in_first_out(tmp_path):
    # Treas. Reg. 1.1012-1(c)(1): shares not adequately identified are the earliest acquired.
    trades = TRADES + "b3,2024-06-03,his,VOO,buy,1,400.00,0,\nb4,2024-06-04,his,VOO,buy,1,420.00,0,\n" + \
        "s2,2024-06-05,his,VOO,sell,1,430.00,0,\ns3,2024-06-05,his,VOO,sell,1,430.00,0,b4\n"
    code, out, _ = cli(tmp_path, "--lot-method", "specific", "--format", "json", trades=trades)
    assert code == 0
    assert [(s["sell_trade"], s["buy_trade"]) for s in json.loads(out)["sales"][-2:]] == [("s2", "b3"), ("s3", "b4")]


def test_transfer_in_with_acquired_date_and_basis_columns(tmp_path):
    trades = ("trade_id,date,account,ticker,action,quantity,price,fees,lot_id,acquired_date,basis\n"
              "t1,2024-01-02,his,VTI,transfer_in,10,,,,2018-05-01,1500.00\n"
              "s1,2024-02-01,his,VTI,sell,10,250.00,,,,\n")
    code, out, _ = cli(tmp_path, "--format", "json", trades=trades)
    assert code == 0
    sale = json.loads(out)["sales"][0]
    assert (sale["date_acquired"], sale["cost_basis"], sale["term"]) == ("2018-05-01", "1500.00", "long")


def test_reconciliation_with_a_generic_broker_report(tmp_path):
    report = write(tmp_path, "broker.csv",
                   "ticker,date_acquired,date_sold,quantity,proceeds,cost_basis,wash_sale_disallowed\n"
                   "VOO,2024-01-02,2024-03-01,10,4500.00,5000.00,0.00\n")
    out_dir = tmp_path / "out"
    code, _, err = cli(tmp_path, "--broker-report", report, "--out", str(out_dir))
    assert code == 2 and "pass --broker-account ID" in err and not out_dir.exists()
    code, _, _ = cli(tmp_path, "--broker-report", report, "--broker-account", "his", "--out", str(out_dir))
    assert code == 0
    rows = list(csv.DictReader((out_dir / "reconciliation.csv").open()))
    assert [(r["status"], r["engine_disallowed"], r["broker_disallowed"], r["additional_disallowed"])
            for r in rows] == [("additional", "500.00", "0.00", "500.00")]
    form = list(csv.DictReader((out_dir / "form8949.csv").open()))
    assert [r["box"] for r in form] == ["A"]  # on the broker's 1099-B
    data = json.loads((out_dir / "result.json").read_text())
    assert data["reconciliation"]["additional_disallowed"] == "500.00"


def test_reconciliation_with_the_schwab_lot_details_sample(tmp_path):
    path = SAMPLES / "schwab_realized_lot_details.csv"
    if not path.exists():
        pytest.skip("broker samples are not here")
    code, out, err = cli(tmp_path, "--broker-report", str(path), "--broker-account", "Individual_XXX123=his")
    assert (code, err) == (0, "")
    form, _, recon = out.partition("\n\n")
    statuses = {r["ticker"]: r["status"] for r in csv.DictReader(io.StringIO(recon))}
    # The report covers 2025; these trades are from 2024, so every broker row is unmatched and the
    # engine's 2024 sales are outside the report's period.
    assert statuses["ONDS"] == "broker_only" and set(statuses.values()) == {"broker_only"}
    assert form.startswith("part,box,description")


def test_the_management_command_wraps_the_same_cli(tmp_path):
    pytest.importorskip("django")
    from django.conf import settings

    if not settings.configured:
        pytest.skip("Django settings are not configured here")
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command("wash_sales", accounts=write(tmp_path, "a.csv", ACCOUNTS), trades=write(tmp_path, "t.csv", TRADES),
                 format="json", stdout=out)
    assert json.loads(out.getvalue())["sales"][0]["code"] == "W"
    with pytest.raises(CommandError) as exc:
        call_command("wash_sales", accounts=str(tmp_path / "a.csv"), trades=write(tmp_path, "t.csv", "x\n"))
    assert exc.value.returncode == 2
