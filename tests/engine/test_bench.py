"""The engine benchmark: deterministic data with many wash sales, and its report line."""

import io

import pytest

from lots.engine import compute
from lots.engine.bench import IDENTITY, generate, main, parse_sizes, run


def test_the_generated_household_is_the_same_every_time_and_valid():
    accounts, trades = generate(3000, seed=7)
    assert (accounts, trades) == generate(3000, seed=7)
    assert len(trades) == 3000
    assert {a.kind for a in accounts} == {"taxable", "ira", "roth"}
    assert len({a.taxpayer for a in accounts}) == 2  # the family, and the trust on its own
    result = compute(accounts, trades, identity=IDENTITY)
    kinds = {a.kind for a in result.adjustments}
    assert len(result.adjustments) > len(trades) // 10 and kinds == {"deferred", "permanent"}
    assert any(a.ticker != a.replacement_ticker for a in result.adjustments)  # substantially identical funds
    assert any(a.account != a.replacement_account for a in result.adjustments)  # across accounts


def test_run_reports_one_line_per_size():
    out = io.StringIO()
    (row,) = run([2000], out=out)
    assert (row.trades, row.memory_kind) == (2000, "ru_maxrss of the process")
    assert row.trades_per_second > 0 and row.adjustments > 0
    line = out.getvalue()
    assert "2000 trades" in line and "trades/s" in line and "wash-sale adjustments" in line


def test_tracemalloc_measures_compute_only():
    (row,) = run([500], trace=True, out=io.StringIO())
    assert row.memory_kind == "tracemalloc peak during compute()" and row.peak_memory_mb > 0


def test_the_module_runs_as_a_program(capsys):
    assert main(["--sizes", "300"]) == 0
    assert "300 trades" in capsys.readouterr().out


def test_sizes_must_be_positive_whole_numbers():
    assert parse_sizes("10_000,100") == [10000, 100]
    for bad in ("", "ten", "0", "-5"):
        with pytest.raises(ValueError):
            parse_sizes(bad)
