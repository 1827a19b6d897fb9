"""A slow, plain second implementation of the engine's rules, used as an oracle by the property tests.

Same rules and rounding points as lots/engine (docs/wash_sales.md), none of its speed tricks: every loss
scans every acquisition of the taxpayer unit, pieces live in flat lists, no buckets, no skip pointers.
If the fast engine and this one ever disagree on a generated household, one of them is wrong.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from lots.engine.money import anniversary
from lots.engine.types import TAX_ADVANTAGED_KINDS
from lots.engine.universe import IdentityMap

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def r(x):
    return x.quantize(CENT, ROUND_HALF_UP)


@dataclass
class P:  # a piece of a lot
    qty: Decimal
    basis: Decimal
    adj: Decimal
    hps: date
    absorbed: bool


@dataclass
class A:  # an acquisition
    trade: object
    seq: int
    acquired: date
    group: str
    unit: str
    advantaged: bool
    done: bool = False
    avail: Decimal = Decimal(0)
    pieces: list = field(default_factory=list)
    pending: list = field(default_factory=list)


def tack(start, sold_start, sold):
    overlap = max(0, (sold - max(start, sold_start)).days)
    return start - timedelta(days=(sold - sold_start).days - overlap)


def compute_reference(accounts, trades, identity, lot_method="fifo"):
    """(sales, adjustments, open lots) as plain tuples, in the engine's output order. `identity` is a
    {ticker: group} dict or an IdentityMap (groups looked up on each trade's own date)."""
    if isinstance(identity, dict):
        identity = IdentityMap.from_mapping(identity)
    acct = {a.account: a for a in accounts}
    ordered = sorted(trades, key=lambda t: t.date)
    acqs = []
    by_id = {}
    for seq, t in enumerate(ordered):
        if t.action != "sell":
            acquired = t.acquired_date or t.date
            a = A(t, seq, acquired, identity.group_on(t.ticker, acquired), acct[t.account].taxpayer,
                  acct[t.account].kind in TAX_ADVANTAGED_KINDS, avail=t.quantity)
            acqs.append(a)
            by_id[t.trade_id] = a
    sales, adjustments = [], []
    for seq, t in enumerate(ordered):
        if t.action != "sell":
            a = by_id[t.trade_id]
            cost = r(t.basis) if t.basis is not None else r(t.quantity * t.price + t.fees)
            rem_c, rem_q = cost, t.quantity
            for take, amount, sold_start, sold, in a.pending:
                b = rem_c if take == rem_q else r(cost * take / t.quantity)
                rem_c, rem_q = rem_c - b, rem_q - take
                if a.advantaged:
                    a.pieces.append(P(take, b, ZERO, a.acquired, True))
                else:
                    a.pieces.append(P(take, b + amount, amount, tack(a.acquired, sold_start, sold), True))
            if rem_q:
                a.pieces.append(P(rem_q, rem_c, ZERO, a.acquired, False))
            a.done = True
            continue
        held = [a for a in acqs if a.done and a.trade.account == t.account and a.trade.ticker == t.ticker]
        held.sort(key=lambda a: (a.acquired, a.seq))
        slots = [(a, p) for a in held for p in a.pieces]
        method = "specific" if t.lot_id else (t.lot_method or lot_method)
        out = []
        need = t.quantity
        while need:
            if method == "specific":
                a, p = next((a, p) for a, p in slots if a.trade.trade_id == t.lot_id and p.qty)
            elif method == "hifo":
                best = max(p.basis / p.qty for _, p in slots if p.qty)
                a, p = next((a, p) for a, p in slots if p.qty and p.basis / p.qty == best)
            else:
                a, p = next((a, p) for a, p in slots if p.qty)
            take = min(p.qty, need)
            if take == p.qty:
                piece = P(p.qty, p.basis, p.adj, p.hps, p.absorbed)
                a.pieces.remove(p)
                slots.remove((a, p))
            else:
                b, j = r(p.basis * take / p.qty), (r(p.adj * take / p.qty) if p.adj else p.adj)
                piece = P(take, b, j, p.hps, p.absorbed)
                p.qty, p.basis, p.adj = p.qty - take, p.basis - b, p.adj - j
            if not piece.absorbed:
                a.avail -= take
            out.append((a, piece))
            need -= take
        total = r(t.quantity * t.price - t.fees)
        left = total
        reportable = acct[t.account].kind not in TAX_ADVANTAGED_KINDS
        for i, (origin, piece) in enumerate(out):
            proceeds = left if i == len(out) - 1 else r(total * piece.qty / t.quantity)
            left -= proceeds
            done = ZERO
            if reportable and proceeds < piece.basis:
                loss, want = piece.basis - proceeds, piece.qty
                group, unit = identity.group_on(t.ticker, t.date), origin.unit
                cands = sorted((c for c in acqs if c.unit == unit and (c.group == group or c.trade.ticker == t.ticker)
                                and abs((c.acquired - t.date).days) <= 30), key=lambda c: (c.acquired, c.seq))
                for c in cands:
                    if not want:
                        break
                    if c is origin or not c.avail or (c.trade.action == "transfer_in" and c.seq > seq):
                        continue
                    take = min(c.avail, want)
                    want -= take
                    amount = r(loss * take / piece.qty) if want else loss - done
                    done += amount
                    c.avail -= take
                    if c.done:
                        rest = c.pieces[-1]
                        if rest.qty == take:
                            new = rest
                        else:
                            b = r(rest.basis * take / rest.qty)
                            new = P(take, b, ZERO, rest.hps, False)
                            rest.qty, rest.basis = rest.qty - take, rest.basis - b
                            c.pieces.insert(len(c.pieces) - 1, new)
                        new.absorbed = True
                        if not c.advantaged:
                            new.basis += amount
                            new.adj += amount
                            new.hps = tack(new.hps, piece.hps, t.date)
                    else:
                        c.pending.append((take, amount, piece.hps, t.date))
                    adjustments.append((t.trade_id, origin.trade.trade_id, c.trade.trade_id, c.trade.account,
                                        take, amount, "permanent" if c.advantaged else "deferred"))
            term = "long" if t.date > anniversary(piece.hps) else "short"
            sales.append((t.trade_id, origin.trade.trade_id, t.account, t.ticker, piece.qty, origin.acquired,
                          t.date, proceeds, piece.basis, done, "W" if done else "", proceeds - piece.basis + done,
                          term, t.date.year, reportable, piece.hps, piece.adj))
    open_lots = sorted(
        ((a.trade.account, a.trade.ticker, a.acquired, a.seq, i), (a.trade.account, a.trade.ticker, a.trade.trade_id,
         a.acquired, p.qty, p.basis, p.hps, p.adj))
        for a in acqs for i, p in enumerate(a.pieces)
    )
    return sales, adjustments, [row for _, row in open_lots]
