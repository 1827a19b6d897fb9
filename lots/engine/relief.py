"""Lot relief: which shares a sell takes out of a position (FIFO, HIFO, specific identification).

Treas. Reg. 1.1012-1(c): shares sold are the earliest acquired (FIFO) unless the taxpayer adequately
identifies them (specific identification; HIFO is a standing instruction to identify the
highest-cost shares). The functions here only move pieces; the engine prices them.
"""

from collections import deque
from decimal import ROUND_HALF_UP, Decimal

from .errors import OversellError, UnknownLotError
from .money import CENT

_ZERO = Decimal(0)


class Piece:
    """Shares of one acquisition with one basis per share and one holding-period start (an ordinal).

    `adj` is the part of `basis` that is deferred wash-sale loss; `absorbed` marks shares that already
    replaced a loss (a replacement share absorbs at most one loss)."""

    __slots__ = ("qty", "basis", "adj", "hps", "acq", "absorbed")

    def __init__(self, qty, basis, adj, hps, acq, absorbed):
        self.qty = qty
        self.basis = basis
        self.adj = adj
        self.hps = hps
        self.acq = acq
        self.absorbed = absorbed

    def split(self, qty: Decimal) -> "Piece":
        """Carve `qty` (< self.qty) shares off this piece with their proportional basis and adjustment,
        rounded half up to cents; this piece keeps the exact remainder (lots/engine/money.py)."""
        whole = self.qty
        basis = (self.basis * qty / whole).quantize(CENT, ROUND_HALF_UP)
        adj = self.adj
        if adj:
            adj = (adj * qty / whole).quantize(CENT, ROUND_HALF_UP)
            self.adj -= adj
        self.qty = whole - qty
        self.basis -= basis
        return Piece(qty, basis, adj, self.hps, self.acq, self.absorbed)


class Position:
    """The acquisitions of one ticker held in one account, in order of acquisition."""

    __slots__ = ("acqs", "held", "dead", "bucket")

    def __init__(self, bucket=None):
        self.bucket = bucket  # the engine's state for this position's taxpayer unit and identity group
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

    def take(self, acq, piece, index: int, qty: Decimal, out: list) -> Decimal:
        """Relieve up to `qty` shares from `piece` (acq.pieces[index]); returns the shares taken."""
        if piece.qty <= qty:
            del acq.pieces[index]
            taken = piece.qty
            out.append(piece)
        else:
            taken = qty
            out.append(piece.split(qty))
        if not piece.absorbed:
            acq.avail -= taken
        return taken

    def bury(self, acq) -> None:
        """Note an acquisition emptied out of order (HIFO, specific); compact the deque now and then."""
        if not acq.pieces:
            self.dead += 1
            if self.dead > 32 and 2 * self.dead > len(self.acqs):
                self.acqs = deque(a for a in self.acqs if a.pieces)
                self.dead = 0


def _take_front(acq, qty: Decimal, out: list) -> Decimal:
    """Relieve up to `qty` shares from the front of `acq`'s pieces into `out`; returns what is left to
    relieve. Shares that had not absorbed a loss stop being replacement candidates (acq.avail)."""
    pieces = acq.pieces
    while qty and pieces:
        piece = pieces[0]
        taken = piece.qty
        if taken <= qty:
            del pieces[0]
            out.append(piece)
        else:
            out.append(piece.split(qty))
            taken = qty
        if not piece.absorbed:
            acq.avail -= taken
        qty -= taken
    return qty


def relieve_fifo(position: Position, qty: Decimal, trade) -> list:
    """First in, first out: the earliest-acquired shares first (Treas. Reg. 1.1012-1(c)(1))."""
    out: list = []
    acqs = position.acqs
    while qty:
        acq = acqs[0]
        qty = _take_front(acq, qty, out)
        if not acq.pieces:
            acqs.popleft()
    return out


def relieve_hifo(position: Position, qty: Decimal, trade) -> list:
    """Highest cost first: the shares with the highest adjusted basis per share; ties, earliest first."""
    out: list = []
    while qty:
        best = best_acq = None
        best_index = 0
        for acq in position.acqs:
            for index, piece in enumerate(acq.pieces):
                if best is None or piece.basis * best.qty > best.basis * piece.qty:
                    best, best_acq, best_index = piece, acq, index
        qty -= position.take(best_acq, best, best_index, qty, out)
        position.bury(best_acq)
    return out


def relieve_specific(position: Position, qty: Decimal, trade, acq) -> list:
    """Specific identification (Treas. Reg. 1.1012-1(c)(2)): the lot of the buy trade `trade.lot_id`.

    Within that lot, shares that absorbed a wash sale are relieved before the others."""
    if acq is None or acq.account != trade.account or acq.ticker != trade.ticker or acq.pieces is None:
        raise UnknownLotError(
            f"lot_id {trade.lot_id!r} names no earlier buy of {trade.ticker} in account {trade.account}",
            trade_id=trade.trade_id, field="lot_id",
        )
    pieces = acq.pieces
    remaining = _ZERO
    for piece in pieces:
        remaining += piece.qty
    if remaining < qty:
        raise OversellError(
            f"sell of {qty} {trade.ticker} from lot {trade.lot_id!r}, which holds only {remaining}",
            trade_id=trade.trade_id, field="quantity",
        )
    out: list = []
    _take_front(acq, qty, out)
    position.bury(acq)
    return out

