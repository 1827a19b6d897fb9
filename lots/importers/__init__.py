"""Custodian exports -> normalized records: pure (standard library, Decimal and ofxtools; no Django).

    from lots.importers import parse_file, decode_upload
    text = decode_upload(raw_bytes, name="export.csv")      # 20 MB cap, UTF-8 or Windows-1252 text
    result = parse_file(text, name="export.csv")            # format detected from the content

`result.records` are the trades or lots to import (quantities positive, the action gives the side),
`result.skipped` the rows not imported with their reason, `result.notes` what the parser assumed.
A malformed file raises ImportFileError naming row, column and reason; a file recognized but out of
scope raises UnsupportedFile saying what to use instead. Formats: docs/importing.md.
"""

from datetime import date

from . import fidelity, generic, ibkr, ofx, schwab, vanguard
from .base import (
    ACQUISITIONS,
    BUY,
    CLOSED_LOTS,
    OPENING,
    REASONS,
    REINVEST,
    SELL,
    TRANSACTIONS,
    TRANSFER_IN,
    ImportFileError,
    ParseResult,
    Problem,
    Record,
    Skipped,
    UnsupportedFile,
    content_fingerprints,
    csv_rows,
)

MAX_BYTES = 20 * 1024 * 1024

# code -> (label, parser(text, name, as_of)); "auto" detects the format from the content.
FORMATS = {
    "generic": ("Generic CSV (docs/importing.md)", lambda t, n, d: generic.parse(t, n)),
    "schwab_transactions": ("Schwab transactions", lambda t, n, d: schwab.parse_transactions(t, n)),
    "schwab_realized_lots": ("Schwab realized gain/loss, lot details", lambda t, n, d: schwab.parse_realized_lots(t, n)),
    "schwab_realized": ("Schwab realized gain/loss (transaction level)", lambda t, n, d: schwab.refuse_realized(n)),
    "schwab_open_lots": ("Schwab open lot details", lambda t, n, d: schwab.parse_open_lots(t, n)),
    "schwab_positions": ("Schwab positions", lambda t, n, d: schwab.parse_positions(t, n, d)),
    "schwab_1099": ("Schwab 1099 composite", lambda t, n, d: schwab.refuse_1099(n)),
    "fidelity_history": ("Fidelity transaction history", lambda t, n, d: fidelity.parse_history(t, n)),
    "fidelity_positions": ("Fidelity positions", lambda t, n, d: fidelity.parse_positions(t, n, d)),
    "vanguard": ("Vanguard transactions (OfxDownload.csv)", lambda t, n, d: vanguard.parse(t, n)),
    "ibkr_flex": ("Interactive Brokers Flex Query (XML)", lambda t, n, d: ibkr.parse_flex(t, n)),
    "ibkr_activity": ("Interactive Brokers activity statement (CSV)", lambda t, n, d: ibkr.parse_activity(t, n)),
    "ibkr_history": ("Interactive Brokers transaction history (CSV)", lambda t, n, d: ibkr.refuse_history(n)),
    "ibkr_8949": ("Interactive Brokers Form 8949 worksheet", lambda t, n, d: ibkr.refuse_8949(n)),
    "ofx": ("OFX / QFX investment statement", lambda t, n, d: ofx.parse(t, n)),
}
FORMAT_CHOICES = [("auto", "Detect from the file"), *((code, label) for code, (label, _) in FORMATS.items())]
_TDA = ["Security", "Trans type", "Qty", "Open date", "Adj cost", "Close date"]


def decode_upload(raw: bytes, *, name: str) -> str:
    """An upload's bytes as text: at most 20 MB, not binary (no NUL bytes, not a spreadsheet workbook),
    UTF-8 (with or without BOM) or, failing that, Windows-1252 (what US custodians' CSV and OFX use)."""
    if len(raw) > MAX_BYTES:
        raise UnsupportedFile(f"{name} is {len(raw) / 1e6:.1f} MB; the limit is {MAX_BYTES // 2**20} MB. Export a "
                              "shorter date range.", name)
    if raw[:4] == b"PK\x03\x04":
        raise UnsupportedFile(f"{name} is a zip or Excel workbook, not text: export or save it as CSV.", name)
    if b"\x00" in raw[:8192]:
        raise UnsupportedFile(f"{name} is not a text file (it contains NUL bytes): export it as CSV, OFX or XML.",
                              name)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnsupportedFile(f"{name} is not UTF-8 or Windows-1252 text.", name)


def detect_format(text: str, name: str = "") -> str:
    """The format code of a file, from its content (never from its name alone). Raises UnsupportedFile."""
    if not text.strip():
        raise UnsupportedFile("the file is empty", name)
    if ofx.detect(text):
        return "ofx"
    if ibkr.detect_flex(text):
        return "ibkr_flex"
    if text.lstrip()[:1] == "<":
        raise UnsupportedFile("this XML file is neither an OFX statement nor an IBKR Flex Query", name)
    rows = csv_rows(text[:200_000])
    kind = ibkr.detect_csv(rows) or schwab.detect_kind(rows) or fidelity.detect_kind(rows)
    if kind:
        return kind
    if vanguard.detect(rows):
        return "vanguard"
    if generic.detect(rows):
        return "generic"
    for cells in rows[:3]:
        if [c.strip() for c in cells[:6]] == _TDA:
            raise UnsupportedFile(
                "This is a TD Ameritrade realized gain/loss report: it is not supported for import. Use it on the "
                "Reconcile page, or convert its lots to the generic CSV (docs/importing.md).", name)
    raise UnsupportedFile(
        "The format of this file is not recognized. Supported: the generic CSV (docs/importing.md), Schwab "
        "transactions, realized gain/loss lot details, open lot details and positions; Fidelity history and "
        "positions; Vanguard OfxDownload.csv; IBKR Flex Query XML and activity statement CSV; OFX/QFX.", name)


def parse_file(text: str, *, name: str = "import", format: str = "auto", as_of: date | None = None) -> ParseResult:
    """Parse one export. `format` is a code of FORMATS or "auto"; `as_of` dates a positions file that does not
    say its own date. Raises ImportFileError (bad rows: all of them, with row, column and reason) or
    UnsupportedFile (recognized but refused, or unknown)."""
    code = detect_format(text, name) if format in ("", "auto", None) else format
    if code not in FORMATS:
        raise UnsupportedFile(f"unknown format {code!r} (expected auto or one of {', '.join(FORMATS)})", name)
    return FORMATS[code][1](text, name, as_of)


__all__ = [
    "ACQUISITIONS", "BUY", "CLOSED_LOTS", "FORMATS", "FORMAT_CHOICES", "MAX_BYTES", "OPENING", "REASONS",
    "REINVEST", "SELL", "TRANSACTIONS", "TRANSFER_IN", "ImportFileError", "ParseResult", "Problem", "Record",
    "Skipped", "UnsupportedFile", "content_fingerprints", "decode_upload", "detect_format", "parse_file",
]
