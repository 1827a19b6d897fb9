"""The import service: preview a custodian export against one account, then commit exactly what was previewed.

    batch = import_preview(account=a, text=t, file_name="x.csv", actor=user, options=ImportOptions())
    batch.summary            # rows read, transactions and lots to create, duplicates, skips, warnings, errors
    import_commit(household=h, batch_id=batch.pk, sha256=batch.sha256, actor=user)

The uploaded text is kept on the ImportBatch with its sha256; confirm re-reads it and refuses when what it
would write differs from the preview (another import landed in between). Writes are atomic and idempotent:
a transaction already on record (same custodian id, or same content and ordinal within its file: the
fingerprint) is skipped, so re-importing a file or an overlapping export creates nothing twice. Every
commit writes an audit event in its transaction and enqueues the ledger recompute on commit.

Unknown tickers: a Security is created only when the caller gives its asset class (options.new_securities);
otherwise its rows are refused with the reason and the advisor can add it in the admin and import again.
"""

import gc
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import count, islice

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from accounts.models import Account, Household
from harvester.audit import audit_record
from harvester.money import CENT, MONEY, PRICE, QUANTITY, ROUNDING
from lots.importers import (
    ACQUISITIONS,
    OPENING,
    REASONS,
    SELL,
    TRANSFER_IN,
    ImportFileError,
    ParseResult,
    Record,
    content_fingerprints,
    decode_upload,
    parse_file,
)
from lots.importers.base import ZERO, plain
from lots.ledger import ledger_recompute_on_commit
from lots.models import AssetClass, ImportBatch, Security, Transaction

UNKNOWN_TICKER = "unknown_ticker"
OTHER_ACCOUNT = "other_account"
DUPLICATE = "duplicate"
REASON_TEXT = {
    **REASONS,
    UNKNOWN_TICKER: "ticker not in Harvester's security list: add it in the admin with its asset class (or give "
    "its asset class here) and import again",
    OTHER_ACCOUNT: "belongs to another account in the file",
}
MAX_LISTED = 100
MAX_ERRORS = 50
SAMPLE_ROWS = 25
PRICE_PLACES = Decimal("0.000001")


class ImportRefused(Exception):
    """The import cannot go ahead; the message says why (nothing was written)."""


@dataclass(frozen=True)
class ImportOptions:
    """What the advisor chose besides the file and the account."""

    format: str = "auto"
    source_account: str = ""  # the account label in a file that holds several accounts
    as_of: date | None = None  # the date of a positions file that does not say it
    new_securities: dict[str, str] = field(default_factory=dict)  # ticker -> asset class code

    def to_json(self) -> dict:
        return {
            "format": self.format,
            "source_account": self.source_account,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "new_securities": dict(sorted(self.new_securities.items())),
        }

    @classmethod
    def from_json(cls, data: dict) -> "ImportOptions":
        as_of = data.get("as_of")
        return cls(
            format=data.get("format") or "auto",
            source_account=data.get("source_account") or "",
            as_of=date.fromisoformat(as_of) if as_of else None,
            new_securities={k.upper(): v for k, v in (data.get("new_securities") or {}).items() if v},
        )


@dataclass
class Plan:
    """What an import would do. Read-only: building it writes nothing.

    The transactions to create are planned rows 0..n-1, kept as columns (a file of 100,000 rows makes no
    object per row besides its record): records[k], fingerprints[k], seqs[k], and for a sale of a
    specific lot, lot_of[k] (the planned row whose lot it relieves) or lot_on_record[k] (the id of the
    transaction on record whose lot it relieves)."""

    format: str = ""
    label: str = ""
    kind: str = ""
    rows_read: int = 0
    records: list[Record] = field(default_factory=list)
    fingerprints: list[str] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)  # execution order among the account's trades of that date
    lot_of: dict[int, int] = field(default_factory=dict)
    lot_on_record: dict[int, int] = field(default_factory=dict)
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    skipped: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    unknown_tickers: dict[str, int] = field(default_factory=dict)
    new_securities: dict[str, tuple[str, str]] = field(default_factory=dict)  # ticker -> (asset class, name)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    accounts_in_file: list[str] = field(default_factory=list)
    source_account: str = ""
    history_complete_from: date | None = None  # the value to set (opening lots), None: unchanged
    digest: str = ""

    lots: int = 0  # acquisitions among rows (each makes a lot)
    sells: int = 0
    first_date: date | None = None
    last_date: date | None = None

    def summary(self) -> dict:
        return {
            "format": self.format,
            "label": self.label,
            "kind": self.kind,
            "rows_read": self.rows_read,
            "transactions": len(self.records),
            "lots": self.lots,
            "sells": self.sells,
            "first_date": self.first_date.isoformat() if self.first_date else None,
            "last_date": self.last_date.isoformat() if self.last_date else None,
            "duplicates": len(self.duplicates),
            "duplicate_rows": [{"row": r, "reason": why} for r, why in self.duplicates[:MAX_LISTED]],
            "skipped": [
                {"reason": reason, "text": REASON_TEXT.get(reason, reason), "count": len(rows),
                 "rows": [{"row": r, "detail": d} for r, d in rows[:20]]}
                for reason, rows in sorted(self.skipped.items(), key=lambda kv: -len(kv[1]))
            ],
            "skipped_count": sum(len(v) for v in self.skipped.values()),
            "unknown_tickers": dict(sorted(self.unknown_tickers.items())),
            "new_securities": {t: {"asset_class": c, "name": n} for t, (c, n) in sorted(self.new_securities.items())},
            "notes": self.notes,
            "warnings": self.warnings,
            "errors": self.errors,
            "accounts_in_file": self.accounts_in_file,
            "source_account": self.source_account,
            "history_complete_from": self.history_complete_from.isoformat() if self.history_complete_from else None,
            "sample": [
                {"row": r.row, "date": r.date.isoformat(), "action": r.action, "ticker": r.ticker,
                 "quantity": str(r.quantity), "price": str(r.price), "fees": str(r.fees),
                 "basis": None if r.basis is None else str(r.basis),
                 "acquired_date": r.acquired_date.isoformat() if r.acquired_date else None}
                for r in self.records[:SAMPLE_ROWS]
            ],
        }


# ---- reading ----------------------------------------------------------------------------------------------
def read_upload(upload, *, name: str | None = None) -> str:
    """A Django upload as text (20 MB cap checked before reading; then decode_upload's checks)."""
    from lots.importers import MAX_BYTES, UnsupportedFile

    name = name or getattr(upload, "name", "upload")
    if upload.size > MAX_BYTES:
        raise UnsupportedFile(f"{name} is {upload.size / 1e6:.1f} MB; the limit is {MAX_BYTES // 2**20} MB. Export a "
                              "shorter date range.", name)
    return decode_upload(upload.read(), name=name)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_parsed: dict[tuple, tuple[ParseResult, list[str]]] = {}


def _parse(text: str, sha: str, name: str, options: ImportOptions) -> tuple[ParseResult, list[str]]:
    """parse_file and the records' fingerprints, remembered for the last few files: preview and confirm of
    one upload in one process parse once. Safe because parsing is pure and its result immutable."""
    key = (sha, name, options.format, options.as_of)
    cached = _parsed.get(key)
    if cached is None:
        result = parse_file(text, name=name, format=options.format, as_of=options.as_of)
        cached = (result, tuple(content_fingerprints(list(result.records))))
        if len(_parsed) >= 2:
            _parsed.pop(next(iter(_parsed)))
        _parsed[key] = cached
    return cached


@contextmanager
def _no_gc():
    """Pause the cyclic garbage collector while building the many small objects of a big file (nothing here
    makes reference cycles; at 100,000 rows the collector's passes cost more than the parse)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


# ---- planning ---------------------------------------------------------------------------------------------
def _limit(spec: dict) -> Decimal:
    return Decimal(10) ** (spec["max_digits"] - spec["decimal_places"])


QUANTITY_MAX, PRICE_MAX, MONEY_MAX = _limit(QUANTITY), _limit(PRICE), _limit(MONEY)


def _digits(label: str) -> str:
    return "".join(ch for ch in label if ch.isdigit())


def import_plan(*, account: Account, text: str, file_name: str, options: ImportOptions, sha: str | None = None) -> Plan:
    """What importing `text` into `account` would do (no writes). Problems go to plan.errors."""
    with _no_gc():
        return _plan(account=account, text=text, file_name=file_name, options=options, sha=sha)


def _plan(*, account: Account, text: str, file_name: str, options: ImportOptions, sha: str | None) -> Plan:
    plan = Plan()
    sha = sha or text_sha256(text)
    try:
        parsed, fingerprints = _parse(text, sha, file_name, options)
    except ImportFileError as exc:
        plan.errors = [p.text(file_name) for p in exc.problems[:MAX_ERRORS]]
        if len(exc.problems) > MAX_ERRORS:
            plan.errors.append(f"... and {len(exc.problems) - MAX_ERRORS} more")
        return plan
    plan.format, plan.label, plan.kind, plan.rows_read = parsed.format, parsed.label, parsed.kind, parsed.rows_read
    plan.notes = list(parsed.notes)
    plan.accounts_in_file = list(parsed.accounts)
    skipped: dict[str, list[tuple[int, str]]] = defaultdict(list)

    # 1. Which of the file's accounts goes into this one.
    labels = [a for a in parsed.accounts if a]
    chosen = options.source_account.strip()
    if len(labels) > 1 and not chosen:
        plan.errors.append(
            f"This file holds {len(labels)} accounts ({', '.join(labels)}): choose the one to import into "
            f"{account.name}.")
        return plan
    if chosen and chosen not in labels:
        plan.errors.append(f"The file has no account {chosen!r} (it has: {', '.join(labels) or 'no account labels'}).")
        return plan
    source = chosen or (labels[0] if labels else "")
    plan.source_account = source
    for s in parsed.skipped:
        if chosen and s.account and s.account != chosen:
            skipped[OTHER_ACCOUNT].append((s.row, s.account))
        else:
            skipped[s.reason].append((s.row, s.detail))
    records = parsed.records
    if chosen:
        mine = []
        for i, r in enumerate(records):
            if r.account == chosen:
                mine.append(i)
            else:
                skipped[OTHER_ACCOUNT].append((r.row, r.account))
    else:
        mine = range(len(records))
    masked, label_digits = _digits(account.number_masked), _digits(source)
    if masked and len(label_digits) >= 3 and not label_digits.endswith(masked[-3:]) and not masked.endswith(
            label_digits[-3:]):
        plan.warnings.append(f"The file is for account {source}, but {account.name} is numbered "
                             f"{account.number_masked}: check that this is the right account.")

    # 2. Securities: known, to be created with the asset class the caller gave, or refused.
    tickers = {records[i].ticker for i in mine}
    securities = {s.ticker: s for s in Security.objects.filter(ticker__in=tickers)}
    unknown = sorted(tickers - set(securities))
    wanted = {t: c for t, c in options.new_securities.items() if t in unknown}
    classes = set(AssetClass.objects.filter(code__in=set(wanted.values())).values_list("code", flat=True))
    descriptions = {}
    if wanted:
        for i in mine:
            descriptions.setdefault(records[i].ticker, records[i].description)
    for ticker, code in sorted(wanted.items()):
        if code not in classes:
            plan.errors.append(f"Asset class {code!r} for {ticker} does not exist.")
        elif len(ticker) > 12 or not ticker.replace(".", "").replace("-", "").isalnum():
            plan.errors.append(f"{ticker!r} cannot be a ticker (at most 12 letters, digits, '.' or '-').")
        else:
            plan.new_securities[ticker] = (code, (descriptions.get(ticker) or ticker)[:200])
    kept = mine
    if not tickers <= securities.keys() | plan.new_securities.keys():
        kept = []
        for i in mine:
            ticker = records[i].ticker
            if ticker in securities or ticker in plan.new_securities:
                kept.append(i)
            else:
                plan.unknown_tickers[ticker] = plan.unknown_tickers.get(ticker, 0) + 1
                skipped[UNKNOWN_TICKER].append((records[i].row, ticker))
    if plan.unknown_tickers:
        listed = ", ".join(f"{t} ({n} rows)" for t, n in sorted(plan.unknown_tickers.items()))
        plan.warnings.append(f"Not imported, not in the security list: {listed}. Add them in the admin with their "
                             "asset class, or give their asset class here, and import again.")

    # 3. What the account already holds: ids and fingerprints (duplicates), seqs, positions.
    existing = list(
        Transaction.objects.filter(account=account).values_list(
            "id", "custodian_txn_id", "fingerprint", "trade_date", "seq", "security__ticker", "action", "quantity",
            "acquired_date", "source_file", "source_row",
        )
    )
    by_id = {e[1]: e[0] for e in existing if e[1]}
    by_fp = {e[2]: e[0] for e in existing if e[2]}
    by_trade = {(e[3], e[5], e[6], e[7]): e for e in existing}
    max_seq: dict[date, int] = {}
    for e in existing:
        if e[4] > max_seq.get(e[3], -1):
            max_seq[e[3]] = e[4]

    # 4. Duplicates, and the rows to create.
    in_file_ids: dict[str, int] = {}
    planned_at: dict[int, int] = {}  # parse index -> planned row index
    existing_at: dict[int, int] = {}  # parse index -> existing transaction id (a duplicate)
    lot_ids: dict[str, int] = {}
    problems: list[str] = []
    planned, planned_fingerprints = plan.records, plan.fingerprints
    linked: list[int] = []  # planned rows that name the lot they relieve
    opening_dates: list[date] = []
    for i in kept:
        r = records[i]
        fp = fingerprints[i]
        cid = r.custodian_id
        if cid and cid in by_id:
            plan.duplicates.append((r.row, f"already imported (custodian id {cid})"))
            existing_at[i] = by_id[cid]
            continue
        if fp in by_fp:
            plan.duplicates.append((r.row, "already imported (same trade from an earlier import)"))
            existing_at[i] = by_fp[fp]
            continue
        if cid:
            if cid in in_file_ids:
                plan.duplicates.append((r.row, f"repeats custodian id {cid} of row {in_file_ids[cid]}"))
                continue
            in_file_ids[cid] = r.row
        if (r.quantity >= QUANTITY_MAX or r.price >= PRICE_MAX or r.fees >= MONEY_MAX or r.basis is not None
                or -r.quantity.as_tuple().exponent > QUANTITY["decimal_places"]):
            problems.extend(_number_problems(r, file_name))
        planned_at[i] = len(planned)
        if cid:
            lot_ids[cid] = len(planned)
        if r.lot_ref is not None or r.lot_id:
            linked.append(len(planned))
        planned.append(r)
        planned_fingerprints.append(fp)
        action = r.action
        if action == SELL:
            plan.sells += 1
        elif action in ACQUISITIONS:
            plan.lots += 1
        if r.opening:
            opening_dates.append(r.date)

    # 5. Which lot each specific-identification sell relieves.
    missing_ids = {planned[k].lot_id for k in linked if planned[k].lot_id and planned[k].lot_id not in lot_ids}
    if missing_ids:
        known = dict(Transaction.objects.filter(account=account, custodian_txn_id__in=missing_ids).values_list(
            "custodian_txn_id", "id"))
    else:
        known = {}
    for k in linked:
        r = planned[k]
        if r.lot_ref is not None:
            if r.lot_ref in planned_at:
                plan.lot_of[k] = planned_at[r.lot_ref]
            elif r.lot_ref in existing_at:
                plan.lot_on_record[k] = existing_at[r.lot_ref]
            else:
                problems.append(f"{file_name}, row {r.row}: the lot this sale closes was not imported")
        elif r.lot_id:
            if r.lot_id in lot_ids:
                target = planned[lot_ids[r.lot_id]]
                if target.action == SELL or target.ticker != r.ticker or target.date > r.date:
                    problems.append(f"{file_name}, row {r.row}, column 'lot_id': {r.lot_id!r} is not an earlier "
                                    f"purchase of {r.ticker}")
                plan.lot_of[k] = lot_ids[r.lot_id]
            elif r.lot_id in known:
                plan.lot_on_record[k] = known[r.lot_id]
            else:
                problems.append(f"{file_name}, row {r.row}, column 'lot_id': no trade {r.lot_id!r} in this file or "
                                f"in {account.name}")

    # 6. Execution order: trades of one day by time when the file gives it, else purchases before sales
    #    (so a same-day buy and sell never read as an oversell), then in the file's chronological order.
    #    The generic CSV's rows are its execution order (docs/formats.md), so its days keep file order.
    if parsed.format == "generic":
        dates = [r.date for r in planned]
        order = sorted(range(len(planned)), key=dates.__getitem__)  # stable: a day keeps the file's order
    else:
        descending = len(planned) > 1 and planned[0].date > planned[-1].date
        order = sorted(range(len(planned)), key=lambda k: (
            planned[k].date, planned[k].time, 1 if planned[k].action == SELL else 0, -k if descending else k))
    seqs = plan.seqs = [0] * len(planned)
    next_seq: dict[date, int] = {}
    for k in order:
        day = planned[k].date
        seq = next_seq.get(day)
        if seq is None:
            seq = max_seq.get(day, -1) + 1
        seqs[k] = seq
        next_seq[day] = seq + 1
    if planned:
        plan.first_date, plan.last_date = planned[order[0]].date, planned[order[-1]].date

    # 7. No sale may sell shares the account does not hold at that point.
    oversells = _oversells(planned, seqs, order, existing, account_name=account.name, file_name=file_name)
    problems.extend(oversells[:20])
    if len(oversells) > 20:
        problems.append(f"... and {len(oversells) - 20} more sales of shares not on record")
    plan.errors.extend(problems[:MAX_ERRORS])

    # 8. Opening lots mark wash-sale coverage as incomplete before their date.
    if opening_dates:
        snapshot = max(opening_dates)
        current = account.household.history_complete_from
        if current is None or snapshot > current:
            plan.history_complete_from = snapshot
        earlier = sum(1 for e in existing if e[3] <= snapshot and not (e[6] == TRANSFER_IN and e[8]))
        if earlier:
            plan.warnings.append(f"{account.name} already has {earlier} trades on or before {snapshot}: opening lots "
                                 f"as of {snapshot} would count those shares twice. Import opening lots into an "
                                 "account before its trades.")
        if plan.kind == OPENING:
            plan.notes.append(f"Opening lots: wash-sale coverage of the household is incomplete before {snapshot} "
                              "(trades before it are not on record).")

    # 9. The same trade from another export (no shared id or fingerprint) is flagged, not skipped.
    probable = []
    for r in (planned if by_trade else ()):  # nothing on record: nothing to compare
        other = by_trade.get((r.date, r.ticker, r.action, r.quantity))
        if other is not None and len(probable) < 20:
            probable.append(f"row {r.row}: a {r.action} of {r.quantity.normalize():f} {r.ticker} on {r.date} is "
                            f"already on record (from {other[9] or 'an earlier entry'}"
                            f"{f' row {other[10]}' if other[10] else ''}): check it is not the same trade.")
    if probable:
        plan.warnings.append("Possibly already on record from another export:")
        plan.warnings.extend(probable)
    plan.skipped = dict(skipped)
    if not planned and not plan.errors and not plan.duplicates:
        plan.warnings.append("Nothing to import from this file.")
    plan.digest = _digest(plan)
    return plan


def _number_problems(r: Record, file_name: str) -> list[str]:
    """Numbers of a record that do not fit their columns."""
    problems = []
    if (r.quantity >= QUANTITY_MAX or r.price >= PRICE_MAX or r.fees >= MONEY_MAX
            or (r.basis is not None and r.basis >= MONEY_MAX)):
        problems.append(f"{file_name}, row {r.row}: a number is too large to store")
    if -r.quantity.as_tuple().exponent > QUANTITY["decimal_places"]:
        problems.append(f"{file_name}, row {r.row}, column 'quantity': {r.quantity} has more than "
                        f"{QUANTITY['decimal_places']} decimal places")
    return problems


def _oversells(records: list[Record], seqs: list[int], order: list[int], existing: list[tuple], *,
               account_name: str, file_name: str) -> list[str]:
    """The sales that sell more shares than the account holds at that point (the account's trades and the
    planned rows together, in (date, seq) order), by ticker."""
    earlier: dict[str, list] = defaultdict(list)
    for e in existing:
        if e[6] != "split":
            earlier[e[5]].append((e[3], e[4], 0, e[6] == SELL, e[7], None))
    found: dict[str, list[str]] = defaultdict(list)

    def oversell(record: Record, ticker: str, day: date, held: Decimal) -> None:
        found[ticker].append(
            f"{file_name}, row {record.row}: sells {plain(record.quantity)} {ticker} on {day}, but "
            f"{account_name} holds only {plain(held)} then. Import the shares bought before "
            "this file's first date first, as opening lots (open lot details or positions as of an "
            "earlier date, or the generic CSV with transfer_in rows).")

    # Tickers the account holds nothing of yet: one pass over the planned rows, already in (date, seq) order.
    holding: dict[str, Decimal] = {}
    mixed: dict[str, list] = defaultdict(list)
    for k in order:
        r = records[k]
        ticker = r.ticker
        if ticker in earlier:
            mixed[ticker].append((r.date, seqs[k], 1, r.action == SELL, r.quantity, r))
        elif r.action == SELL:
            held = holding.get(ticker, ZERO)
            if r.quantity <= held:
                holding[ticker] = held - r.quantity
            else:
                oversell(r, ticker, r.date, held)
                holding[ticker] = ZERO
        else:
            holding[ticker] = holding.get(ticker, ZERO) + r.quantity
    # Tickers with trades on record: merged with them.
    for ticker, new in mixed.items():
        if not any(is_sell for _, _, _, is_sell, _, _ in new):
            continue
        held = ZERO
        for day, _seq, _new, is_sell, quantity, record in sorted(earlier[ticker] + new, key=lambda x: x[:3]):
            if not is_sell:
                held += quantity
            elif quantity <= held or record is None:
                held -= quantity
            else:
                oversell(record, ticker, day, held)
                held = ZERO
    return [message for ticker in sorted(found) for message in found[ticker]]


def _digest(plan: Plan) -> str:
    """What the plan would write, in one hash: confirm compares it with the preview's."""
    lot_of, lot_on_record = plan.lot_of.get, plan.lot_on_record.get
    lines = [f"{fingerprint}|{r.custodian_id}|{r.ticker}|{seq}|{lot_of(k)}|{lot_on_record(k)}"
             for k, r, fingerprint, seq in zip(count(), plan.records, plan.fingerprints, plan.seqs)]
    lines.append(repr(sorted(plan.new_securities.items())))
    lines.append(str(plan.history_complete_from))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# ---- services ---------------------------------------------------------------------------------------------
_plans: dict[tuple, Plan] = {}


def _plan_key(account: Account, sha: str, options: ImportOptions) -> tuple:
    """A plan stays valid while the account's transactions and the household's coverage date are unchanged:
    same count, same newest id (an insert or a delete changes one of them)."""
    state = Transaction.objects.filter(account=account).aggregate(n=Count("id"), last=Max("id"))
    coverage = Household.objects.filter(pk=account.household_id).values_list("history_complete_from", flat=True)
    return sha, account.pk, repr(options.to_json()), state["n"], state["last"], coverage.first()


def _planned(*, account: Account, text: str, file_name: str, options: ImportOptions, sha: str) -> Plan:
    """import_plan, remembered (for the last two uploads) so that a confirm right after its preview in the same
    process does not plan the same rows again when nothing changed in between."""
    key = _plan_key(account, sha, options)
    plan = import_plan(account=account, text=text, file_name=file_name, options=options, sha=sha)
    if len(_plans) >= 2:
        _plans.pop(next(iter(_plans)))
    _plans[key] = plan
    return plan


def _check_account(household: Household, account: Account) -> None:
    if account.household_id != household.pk:
        raise ImportRefused("That account is not in this household.")


@transaction.atomic
def import_preview(*, account: Account, text: str, file_name: str, actor, options: ImportOptions) -> ImportBatch:
    """Keep the upload and its preview. The batch is PREVIEWED (it can be confirmed) or REFUSED (its summary's
    errors say why; new options can be tried with import_repreview). Writes no transaction."""
    sha = text_sha256(text)
    plan = _planned(account=account, text=text, file_name=file_name, options=options, sha=sha)
    return ImportBatch.objects.create(
        household_id=account.household_id,
        account=account,
        file_name=file_name[:255],
        sha256=sha,
        content=text,
        format=plan.format,
        options=options.to_json(),
        status=ImportBatch.Status.REFUSED if plan.errors else ImportBatch.Status.PREVIEWED,
        summary=plan.summary(),
        plan_digest=plan.digest,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


@transaction.atomic
def import_repreview(*, household: Household, batch_id: int, actor, options: ImportOptions,
                     account: Account | None = None) -> ImportBatch:
    """Preview a kept upload again with other options (the account in the file, asset classes of new tickers,
    the positions date) or into another account of the household."""
    batch = _batch_for_update(household, batch_id)
    if batch.status == ImportBatch.Status.COMMITTED:
        raise ImportRefused("This import was already committed.")
    if account is not None:
        _check_account(household, account)
        batch.account = account
    plan = _planned(account=batch.account, text=batch.content, file_name=batch.file_name, options=options,
                    sha=batch.sha256)
    batch.options = options.to_json()
    batch.format = plan.format
    batch.summary = plan.summary()
    batch.plan_digest = plan.digest
    batch.status = ImportBatch.Status.REFUSED if plan.errors else ImportBatch.Status.PREVIEWED
    batch.save(update_fields=["account", "options", "format", "summary", "plan_digest", "status"])
    return batch


def _batch_for_update(household: Household, batch_id) -> ImportBatch:
    try:
        return ImportBatch.objects.select_for_update().select_related("account").get(
            pk=int(batch_id), household=household)
    except (ImportBatch.DoesNotExist, TypeError, ValueError):
        raise ImportRefused("No such import.") from None


@dataclass(frozen=True)
class ImportResult:
    batch: ImportBatch
    transactions: int
    lots: int
    duplicates: int
    securities_created: list[str]
    history_complete_from: date | None


@transaction.atomic
def import_commit(*, household: Household, batch_id: int, sha256: str, actor, request=None) -> ImportResult:
    """Write what the batch's preview showed, or nothing. Locks the household (imports and ledger recomputes of
    one household run one at a time), re-reads the kept text, checks its sha256, re-plans, and refuses when
    the plan differs from the preview. Audited in the same transaction; the ledger recompute runs on commit."""
    Household.objects.select_for_update().filter(pk=household.pk).first()
    batch = _batch_for_update(household, batch_id)
    if batch.status == ImportBatch.Status.COMMITTED:
        raise ImportRefused("This import was already committed.")
    if batch.status != ImportBatch.Status.PREVIEWED:
        raise ImportRefused("This import was refused at preview: fix what its errors say and preview again.")
    if sha256 != batch.sha256 or text_sha256(batch.content) != batch.sha256:
        raise ImportRefused("The file's sha256 does not match the previewed upload.")
    account = Account.objects.select_related("household").get(pk=batch.account_id)
    options = ImportOptions.from_json(batch.options)
    plan = _plans.get(_plan_key(account, batch.sha256, options))
    if plan is None:  # another process previewed it, or the account changed since: plan again
        plan = import_plan(account=account, text=batch.content, file_name=batch.file_name, options=options,
                           sha=batch.sha256)
    if plan.errors:
        raise ImportRefused("The import cannot go ahead: " + " ".join(plan.errors[:5]))
    if plan.digest != batch.plan_digest:
        raise ImportRefused("The account changed since this preview (another import or edit): preview it again "
                            "before confirming.")
    created = _write(plan, account=account, batch=batch)
    before = {"history_complete_from": household.history_complete_from.isoformat()
              if household.history_complete_from else None}
    if plan.history_complete_from is not None:
        Household.objects.filter(pk=household.pk).update(history_complete_from=plan.history_complete_from)
        household.history_complete_from = plan.history_complete_from
    batch.status = ImportBatch.Status.COMMITTED
    batch.committed_at = timezone.now()
    batch.committed_by = actor if getattr(actor, "is_authenticated", False) else None
    batch.summary = {**plan.summary(), "committed": {"transactions": len(plan.records), "lots": plan.lots,
                                                     "securities_created": created}}
    batch.save(update_fields=["status", "committed_at", "committed_by", "summary"])
    audit_record(
        action="import.commit",
        actor=actor,
        household=household,
        obj=batch,
        summary=f"Imported {len(plan.records)} transactions ({plan.lots} lots) into {account.name} from {batch.file_name}",
        before=before,
        after={"transactions": len(plan.records), "lots": plan.lots, "duplicates_skipped": len(plan.duplicates),
               "format": plan.format, "sha256": batch.sha256, "securities_created": created,
               "history_complete_from": plan.history_complete_from.isoformat() if plan.history_complete_from
               else before["history_complete_from"]},
        request=request,
    )
    ledger_recompute_on_commit(household.pk)
    return ImportResult(batch, len(plan.records), plan.lots, len(plan.duplicates), created, plan.history_complete_from)


def _write(plan: Plan, *, account: Account, batch: ImportBatch) -> list[str]:
    """bulk_create the plan's securities and transactions (purchases first: sales point at their lots)."""
    created = []
    if plan.new_securities:
        classes = dict(AssetClass.objects.filter(code__in={c for c, _ in plan.new_securities.values()})
                       .values_list("code", "id"))
        note = f"Created by import {batch.pk} ({batch.file_name[:80]}); identity group not set: check it."
        Security.objects.bulk_create([
            Security(ticker=t, name=name, asset_class_id=classes[code], verified=False, note=note[:300])
            for t, (code, name) in sorted(plan.new_securities.items())
        ])
        created = sorted(plan.new_securities)
    records, fingerprints, seqs, lot_of, lot_on_record = (
        plan.records, plan.fingerprints, plan.seqs, plan.lot_of, plan.lot_on_record)
    tickers = {r.ticker for r in records}
    security_ids = dict(Security.objects.filter(ticker__in=tickers).values_list("ticker", "id"))
    source = f"{batch.file_name[:260]} (import {batch.pk})"
    now = timezone.now()
    specific = Transaction.LotSelection.SPECIFIC.value
    # Sales that relieve a lot of this same file go in second, once that lot has its id.
    first = [k for k in range(len(records)) if k not in lot_of]
    second = list(lot_of)
    ids: dict[str, int] = {}  # fingerprint -> id of the lots this file's sales relieve (read before the sales)
    account_id = account.pk
    price_of, fees_of, basis_of = _stored(PRICE_PLACES), _stored(CENT), _stored(CENT)

    def row_of(k: int) -> tuple:
        r = records[k]
        lot = ids[fingerprints[lot_of[k]]] if k in lot_of else lot_on_record.get(k)
        return (account_id, security_ids[r.ticker], r.date, seqs[k], r.action, r.quantity, price_of(r.price),
                fees_of(r.fees), specific if lot is not None else (r.lot_method or ""), lot, r.acquired_date,
                None if r.basis is None else basis_of(r.basis), r.custodian_id[:100], fingerprints[k], source,
                r.row, now)

    for group in (first, second):
        if not group:
            continue
        if group is second:
            wanted = {fingerprints[lot_of[k]] for k in second}
            ids.update(Transaction.objects.filter(account=account, fingerprint__in=wanted)
                       .values_list("fingerprint", "id"))
        _insert(map(row_of, group))
    return created


def _stored(places: Decimal):
    """value -> the value as stored with `places` decimal places (ROUND_HALF_UP beyond them, unchanged
    otherwise), remembered per value: a file repeats its prices and fees, and rounding is the costly part."""
    exponent = places.as_tuple().exponent
    cache: dict[Decimal, Decimal] = {}

    def stored(value: Decimal) -> Decimal:
        result = cache.get(value)
        if result is None:
            # Equal values give equal stored values whatever their exponent, so one entry serves them all.
            result = value if value.as_tuple().exponent >= exponent else value.quantize(places, rounding=ROUNDING)
            cache[value] = result
        return result

    return stored


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value) -> str:
    """A value in COPY's text format: \\N for NULL, backslash escapes in text."""
    if value is None:
        return "\\N"
    if type(value) is str:
        return value.translate(_COPY_ESCAPES)
    return str(value)


NULL = "\\N"


def _copy_lines(rows: list[tuple]) -> str:
    """Rows in COPY's text format. Columns known to hold plain values (ids, dates, numbers, fixed words, hex
    fingerprints) are written as they are; free text (custodian ids, file names) is escaped. The text of each
    distinct date and number is made once (str of a Decimal or a date costs more than the rest of a line)."""
    out = []
    append = out.append
    texts: dict = {}  # Decimal and date values -> their text
    text_of = texts.get
    source, source_text, created, created_text = None, "", None, ""
    for (acc, sec, day, seq, action, qty, price, fees, selection, lot, acquired, basis, cid, fp, src, row,
         when) in rows:
        if src is not source:
            source, source_text = src, _text(src)
        if when is not created:
            created, created_text = when, when.isoformat()
        day_text = text_of(day)
        if day_text is None:
            day_text = texts[day] = str(day)
        qty_text = text_of(qty)
        if qty_text is None:
            qty_text = texts[qty] = str(qty)
        price_text = text_of(price)
        if price_text is None:
            price_text = texts[price] = str(price)
        fees_text = text_of(fees)
        if fees_text is None:
            fees_text = texts[fees] = str(fees)
        append(f"{acc}\t{sec}\t{day_text}\t{seq}\t{action}\t{qty_text}\t{price_text}\t{fees_text}\t{selection}\t"
               f"{NULL if lot is None else lot}\t{NULL if acquired is None else acquired}\t"
               f"{NULL if basis is None else basis}\t{cid if cid.isalnum() else _text(cid)}\t{fp}\t{source_text}\t"
               f"{NULL if row is None else row}\t{created_text}\n")
    return "".join(out)


COPY_CHUNK = 5000
COLUMNS = ("account_id", "security_id", "trade_date", "seq", "action", "quantity", "price", "fees", "lot_selection",
           "specific_lot_id", "acquired_date", "basis", "custodian_txn_id", "fingerprint", "source_file",
           "source_row", "created_at")


def _insert(rows: Iterable[tuple]) -> None:
    """Insert transactions: PostgreSQL's COPY (constraints and triggers still apply; about 20 times faster than
    bulk_create at 100,000 rows, whose per-value preparation dominates), bulk_create elsewhere. Rows are
    made and sent a chunk at a time, so the database stores one chunk while Python makes the next."""
    if connection.vendor == "postgresql":
        table = Transaction._meta.db_table
        column_of = {f.attname: f.column for f in Transaction._meta.concrete_fields}
        columns = [column_of[c] for c in COLUMNS]
        rows = iter(rows)
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                while chunk := list(islice(rows, COPY_CHUNK)):
                    copy.write(_copy_lines(chunk))
        return
    Transaction.objects.bulk_create([Transaction(**dict(zip(COLUMNS, row, strict=True))) for row in rows],
                                    batch_size=2000)


def import_batches(household: Household):
    """The household's imports, newest first (a selector)."""
    return ImportBatch.objects.filter(household=household).select_related("account", "created_by").defer("content")


# ---- scheduled purchases (entered during onboarding) ---------------------------------------------------------
SCHEDULE_FIELDS = ("account", "security", "kind", "frequency", "amount", "start_date", "end_date", "paused_until",
                   "active")


def _schedule_json(purchase) -> dict:
    return {
        "account": purchase.account_id, "security": purchase.security.ticker, "kind": purchase.kind,
        "frequency": purchase.frequency, "amount": None if purchase.amount is None else str(purchase.amount),
        "start_date": str(purchase.start_date), "end_date": str(purchase.end_date) if purchase.end_date else None,
        "paused_until": str(purchase.paused_until) if purchase.paused_until else None, "active": purchase.active,
    }


def _check_schedule(household: Household, account: Account, kind: str, amount) -> None:
    from lots.models import ScheduledPurchase

    _check_account(household, account)
    if kind == ScheduledPurchase.Kind.DRIP and amount is not None:
        raise ImportRefused("A DRIP reinvests the dividend: it has no amount.")
    if kind != ScheduledPurchase.Kind.DRIP and amount is None:
        raise ImportRefused("A recurring contribution or payroll purchase needs its amount.")


@transaction.atomic
def scheduled_purchase_create(*, household: Household, actor, account: Account, security: Security, kind: str,
                              frequency: str, start_date: date, amount: Decimal | None = None,
                              end_date: date | None = None, paused_until: date | None = None, active: bool = True,
                              request=None):
    """Record an automatic purchase the forward-looking wash-sale guard must see. Audited."""
    from lots.models import ScheduledPurchase

    _check_schedule(household, account, kind, amount)
    purchase = ScheduledPurchase(account=account, security=security, kind=kind, frequency=frequency, amount=amount,
                                 start_date=start_date, end_date=end_date, paused_until=paused_until, active=active)
    purchase.full_clean()
    purchase.save()
    audit_record(action="scheduled_purchase.create", actor=actor, household=household, obj=purchase,
                 summary=f"Scheduled {purchase.get_kind_display().lower()} of {security.ticker} in {account.name}",
                 after=_schedule_json(purchase), request=request)
    return purchase


@transaction.atomic
def scheduled_purchase_update(*, household: Household, purchase_id: int, actor, request=None, **changes):
    """Change a scheduled purchase (any of SCHEDULE_FIELDS; e.g. paused_until to pause a DRIP). Audited."""
    unknown = set(changes) - set(SCHEDULE_FIELDS)
    if unknown:
        raise ImportRefused(f"Unknown fields: {', '.join(sorted(unknown))}.")
    purchase = scheduled_purchase_get(household, purchase_id, lock=True)
    before = _schedule_json(purchase)
    for name, value in changes.items():
        setattr(purchase, name, value)
    _check_schedule(household, purchase.account, purchase.kind, purchase.amount)
    purchase.full_clean()
    purchase.save()
    audit_record(action="scheduled_purchase.update", actor=actor, household=household, obj=purchase,
                 summary=f"Changed the scheduled {purchase.get_kind_display().lower()} of {purchase.security.ticker}",
                 before=before, after=_schedule_json(purchase), request=request)
    return purchase


@transaction.atomic
def scheduled_purchase_delete(*, household: Household, purchase_id: int, actor, request=None) -> None:
    purchase = scheduled_purchase_get(household, purchase_id, lock=True)
    before = _schedule_json(purchase)
    audit_record(action="scheduled_purchase.delete", actor=actor, household=household, obj=purchase,
                 summary=f"Removed the scheduled {purchase.get_kind_display().lower()} of {purchase.security.ticker}",
                 before=before, request=request)
    purchase.delete()


def scheduled_purchase_get(household: Household, purchase_id, *, lock: bool = False):
    """A scheduled purchase of the household, or ImportRefused (views turn it into a 404)."""
    from lots.models import ScheduledPurchase

    rows = ScheduledPurchase.objects.select_related("account", "security__asset_class")
    if lock:
        rows = rows.select_for_update(of=("self",))
    try:
        return rows.get(pk=int(purchase_id), account__household=household)
    except (ScheduledPurchase.DoesNotExist, TypeError, ValueError):
        raise ScheduledPurchaseMissing("No such scheduled purchase.") from None


class ScheduledPurchaseMissing(ImportRefused):
    """The scheduled purchase is not in this household."""


@dataclass(frozen=True)
class ScheduledView:
    purchase: object
    in_window: list[date]  # dates in the next `days` days: what the wash-sale guard sees
    upcoming: list[date]  # the next few dates


def scheduled_with_dates(household: Household, *, as_of: date, days: int = 30) -> list[ScheduledView]:
    """Every scheduled purchase of the household with its dates in [as_of, as_of + days] and its next dates."""
    from datetime import timedelta

    from lots.models import ScheduledPurchase
    from lots.schedule import next_dates, scheduled_dates

    rows = ScheduledPurchase.objects.filter(account__household=household).select_related(
        "account", "security__asset_class").order_by("account__name", "security__ticker", "id")
    return [ScheduledView(p, scheduled_dates(p, as_of, as_of + timedelta(days=days)), next_dates(p, as_of))
            for p in rows]
