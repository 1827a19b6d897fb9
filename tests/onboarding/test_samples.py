"""Every custodian sample in ../shared/data/broker-samples imports with a sensible summary, or is refused
with a specific reason; re-importing changes nothing; a damaged file changes nothing and says why.
(Third-party test data: read in place, never copied into the repo; skipped when the folder is absent.)"""

from pathlib import Path

import pytest
from django.conf import settings

from lots import imports
from lots.importers import UnsupportedFile, decode_upload, parse_file
from lots.imports import ImportOptions
from lots.ledger import ledger_recompute
from lots.models import ImportBatch, Security, Transaction

pytestmark = pytest.mark.django_db
SAMPLES = Path(settings.BASE_DIR).parent / "shared" / "data" / "broker-samples"

# sample -> (format, transactions created, or the refusal's words)
EXPECTED = {
    "etrade_investment.qfx": ("ofx", 2),
    "fidelity_positions.csv": ("fidelity_positions", 2),
    "fidelity_transactions_all_accounts.csv": ("fidelity_history", 1),
    "fidelity_transactions_single_account.csv": ("fidelity_history", 0),
    "ibkr_activity_statement.csv": ("ibkr_activity", "sells 25 MSFT on 2025-08-15"),
    "ibkr_flex_open_positions.xml": ("ibkr_flex", 11),
    "ibkr_flex_trades.xml": ("ibkr_flex", 0),
    "ibkr_form8949_worksheet.csv": ("ibkr_8949", "Worksheet for Form 8949"),
    "ibkr_transaction_history.csv": ("ibkr_history", "Flex Query"),
    "ofx_fidelity_investment.ofx": ("ofx", "sells 8 SPY on 2012-07-27"),
    "ofx_fidelity_ira_options.ofx": ("ofx", 0),
    "ofx_spec_invstmtrs.ofx": ("ofx", 1),
    "ofx_vanguard_reinvest.ofx": ("ofx", 1),
    "schwab_1099_composite.csv": ("schwab_1099", "1099 composite"),
    "schwab_open_lot_details.csv": ("schwab_open_lots", 2),
    "schwab_positions_all_accounts.csv": ("schwab_positions", 2),
    "schwab_realized_gain_loss.csv": ("schwab_realized", "no acquisition dates"),
    "schwab_realized_lot_details.csv": ("schwab_realized_lots", 10),
    "schwab_transactions.csv": ("schwab_transactions", "sells 10.065 BND on 2023-04-18"),
    "schwab_transactions_2025.csv": ("schwab_transactions", "sells"),
    "tdameritrade_realized_gain_loss.csv": (None, "TD Ameritrade"),
    "vanguard_401k.qfx": ("ofx", 2),
    "vanguard_transactions.csv": ("vanguard", "sells 100 VTSAX on 2025-06-03"),
    "vanguard_transactions_legacy.csv": ("vanguard", 4),
}


def samples():
    if not SAMPLES.is_dir():
        return []
    return sorted(p.name for p in SAMPLES.iterdir() if p.suffix.lower() in (".csv", ".ofx", ".qfx", ".xml"))


def options_for(text: str, name: str) -> ImportOptions:
    """The first account of the file that holds trades, and an asset class for each stock it names."""
    parsed = parse_file(text, name=name)
    source = parsed.records[0].account if len(parsed.accounts) > 1 and parsed.records else ""
    known = set(Security.objects.values_list("ticker", flat=True))
    new = {r.ticker: "us_large_cap" for r in parsed.records if r.ticker not in known}
    return ImportOptions(source_account=source, new_securities=new)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/data/broker-samples is not here")
def test_every_sample_is_listed():
    assert set(samples()) == set(EXPECTED)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/data/broker-samples is not here")
@pytest.mark.parametrize("name", samples() or ["none"])
def test_each_sample_imports_once_or_is_refused_with_its_reason(world, name):
    fmt, expected = EXPECTED[name]
    text = decode_upload((SAMPLES / name).read_bytes(), name=name)
    try:
        options = options_for(text, name)
    except UnsupportedFile as exc:
        assert isinstance(expected, str) and expected in str(exc), str(exc)
        batch = imports.import_preview(account=world.alex_ind, text=text, file_name=name, actor=world.advisor,
                                       options=ImportOptions())
        assert batch.status == ImportBatch.Status.REFUSED and expected in batch.summary["errors"][0]
        return
    batch = imports.import_preview(account=world.alex_ind, text=text, file_name=name, actor=world.advisor,
                                   options=options)
    assert batch.format == fmt
    summary = batch.summary
    assert summary["rows_read"] > 0
    if isinstance(expected, str):  # refused: a sale of shares bought before the file begins
        assert batch.status == ImportBatch.Status.REFUSED
        assert any(expected in e for e in summary["errors"]), summary["errors"]
        assert not Transaction.objects.exists()
        return
    assert summary["errors"] == [], summary["errors"]
    assert summary["transactions"] == expected, summary
    assert summary["transactions"] + summary["skipped_count"] >= 1
    if expected:
        imports.import_commit(household=world.household, batch_id=batch.pk, sha256=batch.sha256, actor=world.advisor)
        ledger_recompute(household_id=world.household.pk)  # the engine accepts what was imported
    assert Transaction.objects.count() == expected
    again = imports.import_preview(account=world.alex_ind, text=text, file_name=name, actor=world.advisor,
                                   options=ImportOptions(source_account=options.source_account))
    assert (again.summary["transactions"], again.summary["duplicates"]) == (0, expected)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/data/broker-samples is not here")
def test_a_damaged_sample_changes_nothing_and_says_exactly_why(world):
    text = (SAMPLES / "schwab_transactions_2025.csv").read_text(encoding="utf-8-sig")
    damaged = text.replace('"12/30/2025","Buy","ASTS","AST SPACEMOBILE INC CLASS A","25"',
                           '"12/30/2025","Buy","ASTS","AST SPACEMOBILE INC CLASS A","2x5"', 1)
    assert damaged != text
    batch = imports.import_preview(account=world.alex_ind, text=damaged, file_name="s.csv", actor=world.advisor,
                                   options=ImportOptions())
    assert batch.status == ImportBatch.Status.REFUSED
    assert batch.summary["errors"] == ["s.csv, row 3, column 'Quantity': not a number: '2x5'"]
    assert not Transaction.objects.exists()
