"""Lot relief: which shares a sell takes out of a position (FIFO, HIFO, specific identification).

Treas. Reg. 1.1012-1(c): shares sold are the earliest acquired (FIFO) unless the taxpayer adequately
identifies them (specific identification; HIFO is a standing instruction to identify the
highest-cost shares). The functions here only move shares; the engine prices them.

How an executed acquisition (core._Acq) holds its shares, in this order:
- `acq.pieces`: the shares that absorbed a wash-sale loss, in the order they absorbed it. Each piece is
  a tuple (qty, basis, adj, hps, acq): its quantity, adjusted basis, the part of that basis that is a
  deferred loss, its holding-period start (an ordinal) and its acquisition;
- the rest: `acq.avail` shares that absorbed nothing, with total basis `acq.rest_basis`, held from the
  acquisition date with no adjustment. They are also the shares that can still replace a loss, which
  is why one number serves both.
Most acquisitions never absorb a loss, so they need no piece at all. Pieces are tuples rather than
objects because the engine makes more than a million of them at a million trades and a tuple is about
a fifth of the cost of an instance. A piece is never changed: taking part of one replaces it.

Every function appends the pieces it relieves to a list, as (qty, basis, adj, hps, acq) tuples. Shares
taken from part of a piece get its proportional basis and adjustment, rounded half up to cents; the
piece keeps the exact remainder (lots/engine/money.py).
"""

from collections import deque
from decimal import Decimal

from .errors import OversellError, UnknownLotError
from .money import CENT

_ZERO = Decimal(0)
_MONEY_ZERO = Decimal("0.00")


class Position:
    """The acquisitions of one ticker held in one account, in order of acquisition."""

    __slots__ = ("acqs", "held", "dead")

    def __init__(self):
        self.acqs = deque()
        self.held = _ZERO
        self.dead = 0  # emptied acquisitions left in the middle by hifo/specific relief

    def insert(self, acq) -> None:
        """Insert in order of acquisition (a transfer_in acquired before lots already held)."""
        acqs = self.acqs
        index = len(acqs)
        while index and (acqs[index - 1].acq_ord, acqs[index - 1].seq) > (acq.acq_ord, acq.seq):
            index -= 1
        acqs.insert(index, acq)

    def bury(self, acq) -> None:
        """Note an acquisition emptied out of order (HIFO, specific); compact the deque now and then."""
        if not acq.pieces and not acq.avail:
            self.dead += 1
            if self.dead > 32 and 2 * self.dead > len(self.acqs):
                self.acqs = deque(a for a in self.acqs if a.pieces or a.avail)
                self.dead = 0


def take_piece(acq, index: int, qty: Decimal, out: list) -> Decimal:
    """Relieve up to `qty` shares of `acq.pieces[index]` into `out`; returns the shares taken."""
    pieces = acq.pieces
    piece = pieces[index]
    whole, basis, adj, hps, _ = piece
    if whole <= qty:
        del pieces[index]
        out.append(piece)
        return whole
    part = (basis * qty / whole).quantize(CENT)
    part_adj = (adj * qty / whole).quantize(CENT) if adj else adj
    pieces[index] = (whole - qty, basis - part, adj - part_adj, hps, acq)
    out.append((qty, part, part_adj, hps, acq))
    return qty


def take_rest(acq, qty: Decimal, out: list) -> Decimal:
    """Relieve up to `qty` of the shares of `acq` that absorbed no loss into `out`; returns the shares
    taken. They stop being replacement candidates (acq.avail)."""
    avail = acq.avail
    if avail <= qty:
        out.append((avail, acq.rest_basis, _MONEY_ZERO, acq.acq_ord, acq))
        acq.avail = _ZERO
        acq.rest_basis = _MONEY_ZERO
        return avail
    part = (acq.rest_basis * qty / avail).quantize(CENT)
    acq.rest_basis -= part
    acq.avail = avail - qty
    out.append((qty, part, _MONEY_ZERO, acq.acq_ord, acq))
    return qty


def _take_front(acq, qty: Decimal, out: list) -> Decimal:
    """Relieve up to `qty` shares from the front of `acq` (its pieces, then the rest) into `out`;
    returns what is left to relieve (take_piece and take_rest, written inline: this runs for most
    sells)."""
    pieces = acq.pieces
    while pieces and qty:
        piece = pieces[0]
        whole = piece[0]
        if whole <= qty:
            del pieces[0]
            out.append(piece)
            qty -= whole
        else:
            take_piece(acq, 0, qty, out)
            return _ZERO
    if qty:
        avail = acq.avail
        if avail:
            if avail <= qty:
                out.append((avail, acq.rest_basis, _MONEY_ZERO, acq.acq_ord, acq))
                acq.avail = _ZERO
                acq.rest_basis = _MONEY_ZERO
                return qty - avail
            take_rest(acq, qty, out)
            return _ZERO
    return qty


def relieve_fifo(position: Position, qty: Decimal, trade) -> list:
    """First in, first out: the earliest-acquired shares first (Treas. Reg. 1.1012-1(c)(1))."""
    out: list = []
    acqs = position.acqs
    while qty:
        acq = acqs[0]
        if acq.pieces:
            qty = _take_front(acq, qty, out)
        else:  # the usual lot, which absorbed no loss: only its rest (take_rest, inline)
            avail = acq.avail
            if avail:
                if avail <= qty:
                    out.append((avail, acq.rest_basis, _MONEY_ZERO, acq.acq_ord, acq))
                    acq.avail = _ZERO
                    acq.rest_basis = _MONEY_ZERO
                    qty -= avail
                else:
                    take_rest(acq, qty, out)
                    break
        if not acq.avail and not acq.pieces:  # used up, or emptied earlier by hifo or specific relief
            acqs.popleft()
    return out


def relieve_hifo(position: Position, qty: Decimal, trade) -> list:
    """Highest cost first: the shares with the highest adjusted basis per share; ties, earliest first."""
    out: list = []
    while qty:
        # (qty, basis, acq, index of the piece or None for the rest) of the best shares so far
        best = None
        for acq in position.acqs:
            for index, (pqty, basis, _, _, _) in enumerate(acq.pieces):
                if best is None or basis * best[0] > best[1] * pqty:
                    best = (pqty, basis, acq, index)
            avail = acq.avail
            if avail and (best is None or acq.rest_basis * best[0] > best[1] * avail):
                best = (avail, acq.rest_basis, acq, None)
        _, _, acq, index = best
        qty -= take_rest(acq, qty, out) if index is None else take_piece(acq, index, qty, out)
        position.bury(acq)
    return out


def relieve_specific(position: Position, qty: Decimal, trade, acq) -> list:
    """Specific identification (Treas. Reg. 1.1012-1(c)(2)): the lot of the buy trade `trade.lot_id`.

    Within that lot, shares that absorbed a wash sale are relieved before the others."""
    if acq is None or acq.account != trade.account or acq.ticker != trade.ticker or acq.pieces is None:
        raise UnknownLotError(
            f"lot_id {trade.lot_id!r} names no earlier buy of {trade.ticker} in account {trade.account}",
            trade_id=trade.trade_id, field="lot_id",
        )
    avail = acq.avail
    if acq.pieces or avail < qty:  # (the usual lot holds just its rest: no need to add anything up)
        remaining = _ZERO
        for piece in acq.pieces:
            remaining += piece[0]
        if avail:
            remaining += avail
        if remaining < qty:
            raise OversellError(
                f"sell of {qty} {trade.ticker} from lot {trade.lot_id!r}, which holds only {remaining}",
                trade_id=trade.trade_id, field="quantity",
            )
    out: list = []
    if avail and not acq.pieces:  # the usual lot: only its rest (take_rest, inline)
        if avail <= qty:
            out.append((avail, acq.rest_basis, _MONEY_ZERO, acq.acq_ord, acq))
            acq.avail = _ZERO
            acq.rest_basis = _MONEY_ZERO
        else:
            take_rest(acq, qty, out)
            return out  # shares are left: nothing to bury
    else:
        _take_front(acq, qty, out)
    position.bury(acq)
    return out
