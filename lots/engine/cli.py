"""The wash-sale command line, without Django: `python manage.py wash_sales` is a thin shell over run().

    wash_sales --accounts ACCOUNTS.csv --trades TRADES.csv [--identity IDENTITY.csv]
               [--lot-method fifo|hifo|specific] [--format csv|json] [--out DIR]
               [--broker-report FILE [--broker-account ID | --broker-account LABEL=ID ...]]

Everything is read, checked and computed before anything is written: bad input writes nothing and
exits with status 2, naming the file, row, column and reason. Formats: docs/formats.md.
"""

import argparse
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .brokers import BrokerReport, parse_broker_report
from .core import compute
from .csvio import InputError, InputErrors, parse_accounts, parse_identity, parse_trades, to_csv, to_json
from .errors import EngineError
from .reconcile import BrokerRow, Reconciliation, reconcile
from .report import FORM8949_COLUMNS, form8949_rows, plain, to_jsonable
from .types import LOT_METHODS

EXIT_INPUT = 2
RECONCILIATION_COLUMNS = (
    "status", "account", "ticker", "date_acquired", "date_sold", "engine_qty", "broker_qty", "engine_proceeds",
    "broker_proceeds", "engine_cost_basis", "broker_cost_basis", "engine_disallowed", "broker_disallowed",
    "additional_disallowed", "reasons", "sell_trades", "broker_lines",
)


class CliError(Exception):
    """Bad input or arguments: the message is for the user; the exit status is 2."""

    returncode = EXIT_INPUT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options (shared by main() and the Django management command)."""
    parser.add_argument("--accounts", required=True, metavar="ACCOUNTS.csv",
                        help="accounts: account,owner,taxpayer,kind")
    parser.add_argument("--trades", required=True, metavar="TRADES.csv",
                        help="trades in execution order: "
                             "trade_id,date,account,ticker,action,quantity,price,fees,lot_id")
    parser.add_argument("--identity", metavar="IDENTITY.csv",
                        help="ticker,group[,since] (default: the built-in ETF universe's tracked indexes)")
    parser.add_argument("--lot-method", choices=LOT_METHODS, default="fifo",
                        help="lot relief for sells without a lot_id (default fifo)")
    parser.add_argument("--format", choices=("csv", "json"), default="csv",
                        help="what to print without --out: Form 8949 CSV (default) or the full JSON result")
    parser.add_argument("--out", metavar="DIR",
                        help="write result.json, form8949.csv (and reconciliation.csv) into DIR instead")
    parser.add_argument("--broker-report", metavar="FILE",
                        help="a broker realized gain/loss report to reconcile with (generic or Schwab)")
    parser.add_argument("--broker-account", action="append", default=[], metavar="ID|LABEL=ID",
                        help="our account the broker report is for, or LABEL=ID per account label in it")


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError(f"{path}: {what} file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read the {what} file ({exc})") from None


def run(options: Mapping, stdout) -> None:
    """Run the command with parsed `options` (argparse names), writing to `stdout`. Raises CliError."""
    accounts_path, trades_path = options["accounts"], options["trades"]
    errors: list[InputError] = []
    accounts, account_rows = [], {}
    try:
        accounts, account_rows = parse_accounts(_read(accounts_path, "accounts"), accounts_path)
    except InputErrors as exc:
        errors += exc.errors
    trades, trade_rows = [], {}
    try:
        trades, trade_rows = parse_trades(_read(trades_path, "trades"), trades_path,
                                          accounts=account_rows if not errors else None)
    except InputErrors as exc:
        errors += exc.errors
    identity = None
    if options.get("identity"):
        try:
            identity = parse_identity(_read(options["identity"], "identity"), options["identity"])
        except InputErrors as exc:
            errors += exc.errors
    report = None
    if options.get("broker_report"):
        try:
            report = parse_broker_report(_read(options["broker_report"], "broker report"), options["broker_report"])
        except InputErrors as exc:
            errors += exc.errors
    if errors:
        raise CliError(str(InputErrors(errors)))

    try:
        result = compute(accounts, trades, identity=identity, lot_method=options.get("lot_method") or "fifo")
    except EngineError as exc:
        if exc.trade_id is not None:
            where = InputError(trades_path, trade_rows.get(exc.trade_id), exc.field, exc.message)
        else:
            where = InputError(accounts_path, account_rows.get(exc.account), exc.field, exc.message)
        raise CliError(str(where)) from None

    reconciliation = None
    if report is not None:
        rows = _map_accounts(report, options.get("broker_account") or [], account_rows, options["broker_report"])
        reconciliation = reconcile(result, rows, accounts=accounts, period=report.period)

    data = to_jsonable(result)
    if reconciliation is not None:
        data["reconciliation"] = reconciliation_jsonable(reconciliation)
    form = to_csv(form8949_rows(result, reconciliation.reported if reconciliation else ()), FORM8949_COLUMNS)
    recon_csv = to_csv(reconciliation_rows(reconciliation), RECONCILIATION_COLUMNS) if reconciliation else None

    out = options.get("out")
    if not out:
        if options.get("format") == "json":
            stdout.write(to_json(data))
        else:
            stdout.write(form if recon_csv is None else form + "\n" + recon_csv)
        return
    files = {"result.json": to_json(data), "form8949.csv": form}
    if recon_csv is not None:
        files["reconciliation.csv"] = recon_csv
    written = _write_all(Path(out), files)
    stdout.write("".join(f"wrote {path}\n" for path in written))


def _write_all(directory: Path, files: Mapping[str, str]) -> list[Path]:
    """Write every file or none: each goes to a temporary name first and is renamed at the end."""
    temps: list[tuple[str, Path]] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            fd, temp = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
            temps.append((temp, directory / name))
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
    except OSError as exc:
        for temp, _ in temps:
            Path(temp).unlink(missing_ok=True)
        raise CliError(f"{directory}: cannot write the output ({exc})") from None
    for temp, final in temps:
        os.replace(temp, final)
    return [final for _, final in temps]


def _map_accounts(report: BrokerReport, mapping: list[str], ours: Mapping[str, int], name: str) -> list[BrokerRow]:
    """Give every broker row one of our account ids (the report's label, or --broker-account)."""
    default = None
    labels: dict[str, str] = {}
    for item in mapping:
        label, sep, account = item.rpartition("=")
        target = account.strip() if sep else item.strip()
        if target not in ours:
            raise CliError(f"--broker-account {item!r}: {target!r} is not an account in the accounts file")
        if sep:
            labels[label.strip()] = target
        else:
            default = target
    rows = []
    for row in report.rows:
        label = row.account
        if label in labels:
            account = labels[label]
        elif label in ours:
            account = label
        elif default is not None:
            account = default
        elif label:
            raise CliError(f"{name}, row {row.line}: the report is for account {label!r}, which is not in the "
                           "accounts file: pass --broker-account ID (or LABEL=ID)")
        else:
            raise CliError(f"{name}: the report does not say which account it is for: pass --broker-account ID")
        rows.append(BrokerRow(account, row.ticker, row.date_sold, row.quantity, row.proceeds, row.cost_basis,
                              row.wash_sale_disallowed, row.date_acquired, row.line))
    return rows


def reconciliation_rows(reconciliation: Reconciliation) -> list[dict[str, str]]:
    """The reconciliation as CSV rows (RECONCILIATION_COLUMNS)."""
    out = []
    for r in reconciliation.rows:
        out.append({
            "status": r.status, "account": r.account, "ticker": r.ticker,
            "date_acquired": plain(r.date_acquired) or "", "date_sold": plain(r.date_sold),
            "engine_qty": plain(r.engine_qty), "broker_qty": plain(r.broker_qty),
            "engine_proceeds": plain(r.engine_proceeds), "broker_proceeds": plain(r.broker_proceeds) or "",
            "engine_cost_basis": plain(r.engine_cost_basis), "broker_cost_basis": plain(r.broker_cost_basis) or "",
            "engine_disallowed": plain(r.engine_disallowed), "broker_disallowed": plain(r.broker_disallowed),
            "additional_disallowed": plain(r.additional_disallowed), "reasons": "; ".join(r.reasons),
            "sell_trades": " ".join(r.sell_trades), "broker_lines": " ".join(map(str, r.broker_lines)),
        })
    return out


def reconciliation_jsonable(reconciliation: Reconciliation) -> dict:
    return {
        "accounts": list(reconciliation.accounts),
        "period": [plain(d) for d in reconciliation.period],
        "additional_disallowed": plain(reconciliation.additional_disallowed),
        "rows": [
            {**row, "reasons": list(r.reasons), "sell_trades": list(r.sell_trades),
             "broker_lines": list(r.broker_lines)}
            for r, row in zip(reconciliation.rows, reconciliation_rows(reconciliation), strict=True)
        ],
    }


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, stdout=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._stdout = stdout

    def error(self, message):
        raise CliError(f"{self.prog}: {message}")

    def print_help(self, file=None):
        super().print_help(file or self._stdout)


def main(argv: list[str] | None = None, stdout=None, stderr=None) -> int:
    """Run the command line; returns the exit status (0, or 2 for bad input)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = _Parser(prog="wash_sales", description=__doc__.split("\n")[0], stdout=stdout)
    add_arguments(parser)
    try:
        options = vars(parser.parse_args(argv))
        run(options, stdout)
    except CliError as exc:
        stderr.write(f"error: {exc}\n")
        return exc.returncode
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
