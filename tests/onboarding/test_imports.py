"""The import service: preview, then commit exactly what was previewed; atomic, idempotent, audited."""

from datetime import date
from decimal import Decimal as D

import pytest

from harvester.models import AuditEvent
from lots import imports
from lots.imports import ImportOptions, ImportRefused
from lots.ledger import ledger_recompute
from lots.models import Disposal, ImportBatch, Lot, Security, Transaction

pytestmark = pytest.mark.django_db


def preview(world, text, name="trades.csv", account=None, **options):
    return imports.import_preview(account=account or world.alex_ind, text=text, file_name=name, actor=world.advisor,
                                  options=ImportOptions(**options))


def commit(world, batch):
    return imports.import_commit(household=world.household, batch_id=batch.pk, sha256=batch.sha256,
                                 actor=world.advisor)


def test_it_previews_without_writing_then_commits_what_it_showed(world, fixture_text, django_capture_on_commit_callbacks):
    batch = preview(world, fixture_text("generic_trades.csv"))
    s = batch.summary
    assert batch.status == ImportBatch.Status.PREVIEWED and not Transaction.objects.exists()
    assert (s["rows_read"], s["transactions"], s["lots"], s["sells"], s["duplicates"], s["errors"]) == (5, 5, 4, 1, 0, [])
    with django_capture_on_commit_callbacks() as callbacks:
        result = commit(world, batch)
    assert len(callbacks) == 1  # the ledger recompute, enqueued for after the commit
    assert (result.transactions, result.lots) == (5, 4)
    sell = Transaction.objects.get(custodian_txn_id="t3")
    assert (sell.source_file, sell.source_row) == (f"trades.csv (import {batch.pk})", 4)
    assert sell.lot_selection == "specific" and sell.specific_lot.custodian_txn_id == "t2"
    assert all(t.fingerprint.startswith("c1:") for t in Transaction.objects.all())
    event = AuditEvent.objects.get(action="import.commit")
    assert event.household == world.household and event.actor == world.advisor and event.after["transactions"] == 5
    ledger_recompute(household_id=world.household.pk)
    assert Lot.objects.filter(account=world.alex_ind).count() == 4


def test_re_importing_the_same_file_or_an_overlapping_one_creates_nothing_twice(world, fixture_text):
    commit(world, preview(world, fixture_text("Joint_XXX876_Transactions_20250503-142105.csv"), name="a.csv"))
    assert Transaction.objects.count() == 5
    again = preview(world, fixture_text("Joint_XXX876_Transactions_20250503-142105.csv"), name="a.csv")
    assert (again.summary["transactions"], again.summary["duplicates"]) == (0, 5)
    # an export of a later range that overlaps: the two identical April 2 buys plus one new buy
    overlap = ('"Date","Action","Symbol","Description","Quantity","Price","Fees & Comm","Amount"\n'
               '"05/02/2025","Buy","VTI","VANGUARD TOTAL STOCK MARKET ETF","1","$251.00","","-$251.00"\n'
               '"04/02/2025","Buy","VTI","VANGUARD TOTAL STOCK MARKET ETF","5","$240.00","$0.00","-$1200.00"\n'
               '"04/02/2025","Buy","VTI","VANGUARD TOTAL STOCK MARKET ETF","5","$240.00","$0.00","-$1200.00"\n')
    batch = preview(world, overlap, name="b.csv")
    assert (batch.summary["transactions"], batch.summary["duplicates"]) == (1, 2)
    commit(world, batch)
    assert Transaction.objects.count() == 6


def test_a_bad_file_is_refused_with_row_column_and_reason_and_nothing_is_written(world, fixture_text):
    batch = preview(world, fixture_text("generic_bad.csv"), name="generic_bad.csv")
    assert batch.status == ImportBatch.Status.REFUSED
    assert "generic_bad.csv, row 4, column 'quantity': negative quantity -4" in batch.summary["errors"]
    with pytest.raises(ImportRefused, match="refused at preview"):
        commit(world, batch)
    assert not Transaction.objects.exists() and not AuditEvent.objects.filter(action="import.commit").exists()


def test_it_refuses_sales_of_shares_not_on_record(world):
    text = "date,ticker,action,quantity,price\n2025-01-02,VTI,buy,5,100\n2025-02-03,VTI,sell,8,110\n"
    batch = preview(world, text, name="t.csv")
    assert batch.status == ImportBatch.Status.REFUSED
    assert batch.summary["errors"][0].startswith("t.csv, row 3: sells 8 VTI on 2025-02-03, but Alex individual holds "
                                                 "only 5 then. Import the shares bought before")


def test_same_day_purchases_come_before_sales_when_the_file_gives_no_times(world):
    schwab = ('"Date","Action","Symbol","Description","Quantity","Price","Fees & Comm","Amount"\n'
              '"03/03/2025","Sell","VTI","V","10","$250.00","","$2500.00"\n'
              '"03/03/2025","Buy","VTI","V","10","$249.00","","-$2490.00"\n')
    batch = preview(world, schwab, name="s.csv")
    assert batch.summary["errors"] == []
    commit(world, batch)
    assert list(Transaction.objects.order_by("seq").values_list("action", flat=True)) == ["buy", "sell"]


def test_a_file_with_several_accounts_needs_the_one_to_import(world, fixture_text):
    batch = preview(world, fixture_text("fidelity_all_accounts.csv"), name="f.csv")
    assert batch.status == ImportBatch.Status.REFUSED
    assert batch.summary["errors"][0].startswith("This file holds 3 accounts (111111111, 333333333, 444444444)")
    batch = imports.import_repreview(household=world.household, batch_id=batch.pk, actor=world.advisor,
                                     options=ImportOptions(source_account="333333333"))
    assert batch.status == ImportBatch.Status.PREVIEWED
    assert (batch.summary["transactions"], batch.summary["sells"]) == (2, 1)
    assert {s["reason"] for s in batch.summary["skipped"]} >= {"other_account", "bond"}


def test_unknown_tickers_are_refused_unless_given_an_asset_class(world, fixture_text):
    text = fixture_text("schwab_2025.csv")
    batch = preview(world, text, name="s.csv")
    assert batch.summary["unknown_tickers"] == {"NVDA": 1}
    assert any("NVDA (1 rows)" in w for w in batch.summary["warnings"])
    assert batch.summary["transactions"] == 4
    batch = imports.import_repreview(household=world.household, batch_id=batch.pk, actor=world.advisor,
                                     options=ImportOptions(new_securities={"NVDA": "us_large_cap"}))
    assert batch.summary["transactions"] == 5
    result = commit(world, batch)
    assert result.securities_created == ["NVDA"]
    nvda = Security.objects.get(ticker="NVDA")
    assert (nvda.asset_class.code, nvda.verified, nvda.name) == ("us_large_cap", False, "NVIDIA CORP")


def test_an_unknown_asset_class_is_an_error(world, fixture_text):
    batch = preview(world, fixture_text("schwab_2025.csv"), name="s.csv", new_securities={"NVDA": "crypto"})
    assert "Asset class 'crypto' for NVDA does not exist." in batch.summary["errors"]


def test_opening_lots_mark_wash_sale_coverage_incomplete_before_their_date(world, fixture_text):
    batch = preview(world, fixture_text("VTI_lot_details.csv"), name="VTI.csv")
    assert batch.summary["history_complete_from"] == "2025-09-25"
    result = commit(world, batch)
    world.household.refresh_from_db()
    assert result.history_complete_from == world.household.history_complete_from == date(2025, 9, 25)
    ledger_recompute(household_id=world.household.pk)
    lots = Lot.objects.filter(account=world.alex_ind).order_by("acquired_date")
    assert [(lot.acquired_date, lot.cost_basis) for lot in lots] == [(date(2023, 8, 24), D("2213.50")),
                                                                      (date(2025, 9, 24), D("5451.20"))]
    event = AuditEvent.objects.get(action="import.commit")
    assert event.before == {"history_complete_from": None}


def test_closed_lots_become_realized_sales_of_exactly_those_lots(world, fixture_text):
    batch = preview(world, fixture_text("Individual_GainLoss_Realized_Details_20260102-200338.csv"), name="r.csv")
    assert (batch.summary["transactions"], batch.summary["lots"], batch.summary["sells"]) == (4, 2, 2)
    commit(world, batch)
    ledger_recompute(household_id=world.household.pk)
    vti = Disposal.objects.get(security__ticker="VTI")
    assert (vti.date_acquired, vti.date_sold, vti.cost_basis, vti.term) == (
        date(2016, 11, 23), date(2025, 3, 14), D("1480.00"), "long")
    assert abs(vti.proceeds - D("3276.24")) <= D("0.01")
    again = preview(world, fixture_text("Individual_GainLoss_Realized_Details_20260102-200338.csv"), name="r.csv")
    assert (again.summary["transactions"], again.summary["duplicates"]) == (0, 4)


def test_confirm_refuses_when_the_account_changed_since_the_preview(world, fixture_text):
    first = preview(world, fixture_text("generic_trades.csv"))
    second = preview(world, fixture_text("generic_trades.csv"))
    commit(world, first)
    imports._plans.clear()  # as if the confirm came to another web process
    with pytest.raises(ImportRefused, match="changed since this preview"):
        commit(world, second)
    assert Transaction.objects.count() == 5


def test_confirm_needs_the_previewed_sha256_and_happens_once(world, fixture_text):
    batch = preview(world, fixture_text("generic_trades.csv"))
    with pytest.raises(ImportRefused, match="sha256"):
        imports.import_commit(household=world.household, batch_id=batch.pk, sha256="0" * 64, actor=world.advisor)
    commit(world, batch)
    with pytest.raises(ImportRefused, match="already committed"):
        commit(world, batch)
    with pytest.raises(ImportRefused, match="No such import"):
        imports.import_commit(household=world.other_household, batch_id=batch.pk, sha256=batch.sha256,
                              actor=world.advisor)


def test_the_account_label_in_the_file_is_checked_against_the_account_number(world, fixture_text):
    world.alex_ind.number_masked = "****4821"
    world.alex_ind.save()
    batch = preview(world, fixture_text("Joint_XXX876_Transactions_20250503-142105.csv"), name="s.csv")
    assert any("check that this is the right account" in w for w in batch.summary["warnings"])


def test_the_same_trade_from_another_export_is_flagged(world, fixture_text):
    commit(world, preview(world, fixture_text("History_for_Account_X12345678.csv"), name="h.csv"))
    generic = "date,ticker,action,quantity,price,fees\n2025-01-10,VTI,buy,10,250.01,0\n"
    batch = preview(world, generic, name="g.csv")
    assert any("already on record (from h.csv" in w for w in batch.summary["warnings"])


def test_a_file_is_written_a_chunk_at_a_time_rounded_at_the_edges_with_its_provenance(world, monkeypatch):
    monkeypatch.setattr(imports, "COPY_CHUNK", 2)  # five rows: three chunks
    text = ("trade_id,date,ticker,action,quantity,price,fees\n"
            "a1,2025-01-06,VTI,buy,10,250.1234565,0.005\n"
            "a2,2025-01-06,VTI,buy,0.12345678,250.1234565,0.015\n"
            "a3,2025-01-07,BND,buy,3,72.5,0\n"
            "a4,2025-01-08,VTI,sell,4,251,0.5\n"
            ",2025-01-08,VTI,sell,1,251,0.5\n")
    commit(world, preview(world, text, name="big.csv"))
    rows = list(Transaction.objects.order_by("source_row").values_list(
        "custodian_txn_id", "seq", "quantity", "price", "fees", "source_file", "source_row"))
    assert [r[:5] for r in rows] == [
        ("a1", 0, D("10"), D("250.123457"), D("0.01")),  # ROUND_HALF_UP, only beyond the column's places
        ("a2", 1, D("0.12345678"), D("250.123457"), D("0.02")),
        ("a3", 0, D("3"), D("72.5"), D("0")),
        ("a4", 0, D("4"), D("251"), D("0.5")),
        ("", 1, D("1"), D("251"), D("0.5")),
    ]
    batch = ImportBatch.objects.get()
    assert {r[5] for r in rows} == {f"big.csv (import {batch.pk})"} and [r[6] for r in rows] == [2, 3, 4, 5, 6]
    again = preview(world, text, name="big.csv")
    assert (again.summary["transactions"], again.summary["duplicates"]) == (0, 5)


def test_an_oversell_counts_the_shares_already_on_record(world):
    world.trade(world.alex_ind, "VTI", "2025-01-02", "buy", "5", "100")
    text = ("date,ticker,action,quantity,price\n"
            "2025-02-03,VTI,sell,4,110\n"  # 5 on record: fine
            "2025-02-04,VTI,sell,3,110\n"  # 1 left
            "2025-02-04,BND,buy,2,70\n"
            "2025-02-05,BND,sell,3,70\n")
    errors = preview(world, text, name="t.csv").summary["errors"]
    assert [e.split(",")[1] for e in errors] == [" row 5: sells 3 BND on 2025-02-05", " row 3: sells 3 VTI on 2025-02-04"]
    assert "holds only 1 then" in errors[1] and "holds only 2 then" in errors[0]


def test_the_database_refuses_a_second_transaction_with_the_same_fingerprint_or_custodian_id(world):
    from django.db import IntegrityError, transaction

    world.trade(world.alex_ind, "VTI", "2025-01-02", "buy", "5", "100", fingerprint="c1:abc", custodian_txn_id="x1")
    for key in ({"fingerprint": "c1:abc"}, {"custodian_txn_id": "x1"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            world.trade(world.alex_ind, "VTI", "2025-01-03", "buy", "1", "100", **key)
    world.trade(world.joint, "VTI", "2025-01-02", "buy", "5", "100", fingerprint="c1:abc", custodian_txn_id="x1")
