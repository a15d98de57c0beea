"""A month's invoice as a PDF document (fpdf2), pure: no database, no Streamlit.

Rules (README "Billing"):

- A final invoice is titled "Invoice <number>" and says when it closed; a draft
  says plainly that it may still change until its month closes, and as of when
  it was computed.
- The document lists the account, the month, the currency, every line
  (description, quantity, unit price, amount) and the total, the free outcomes
  used and left, and one sentence per month of late outcomes it holds.
- Amounts are written with :func:`app.domain.money.money_str` (exact cents);
  unit prices as given in the plan (up to 6 decimals).
- Text from the database may hold any Unicode. It is set in DejaVu Sans, found
  on the machine (Debian's ``fonts-dejavu-core``, or the copy matplotlib ships);
  control, format (bidi overrides, zero-width) and surrogate characters are
  dropped, characters the font has no glyph for become U+FFFD, and very long
  texts are cut with an ellipsis. Without any DejaVu font the built-in
  Helvetica is used and characters outside Latin-1 become "?": the PDF is then
  less faithful, but it is still made.
- The same invoice gives the same bytes: the creation date is the closing time
  of a final invoice, else the ``as_of`` given (else a fixed date).
"""

from __future__ import annotations

import importlib.util
import unicodedata
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from app.domain.invoice import Invoice
from app.domain.money import money_str, round_cents

__all__ = ["invoice_pdf", "clean_text", "pdf_file_name", "MAX_NAME", "MAX_DESCRIPTION"]

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
# Longer texts are cut: a 10,000-character account name would otherwise fill pages of an invoice.
MAX_NAME = 200
MAX_DESCRIPTION = 500
# A stable creation date for a draft made without an as_of, so its bytes do not depend on when it ran.
FIXED_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu: fonts-dejavu-core
    Path("/usr/share/fonts/dejavu-sans-fonts"),  # Fedora
    Path("/usr/share/fonts/dejavu"),  # Alpine, Arch
    Path("/usr/share/fonts/TTF"),
)
_FAMILY = "DejaVuSans"


@lru_cache(maxsize=1)
def _font_files() -> tuple[Path, Path] | None:
    """DejaVu Sans (regular, bold) on this machine, or None."""
    dirs = list(_FONT_DIRS)
    spec = importlib.util.find_spec("matplotlib")  # found without importing matplotlib
    if spec is not None and spec.origin:
        dirs.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    for folder in dirs:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


@lru_cache(maxsize=1)
def _font_chars() -> frozenset[int]:
    """The code points DejaVu Sans has a glyph for (its cmap), empty without the font."""
    files = _font_files()
    if files is None:
        return frozenset()
    from fontTools.ttLib import TTFont  # fpdf2's own dependency

    with TTFont(files[0], lazy=True) as font:
        return frozenset(font.getBestCmap())


def clean_text(text: object, limit: int | None = None) -> str:
    """Text as the PDF can show it: never raises, whatever ``text`` holds.

    Parameters
    ----------
    text : object
        Usually a str from the database; anything else is turned into one.
    limit : int, optional
        The most characters kept; a longer text is cut and ends with "…".

    Returns
    -------
    str
        Line breaks and tabs become spaces; other control characters, format
        characters (bidi overrides, zero-width joiners) and lone surrogates are
        dropped, since they either break the PDF's text or could make it read
        differently from what it says. Runs of white space become one space.
    """
    kept = []
    for ch in str(text):
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\v\f\x85\u2028\u2029":
            kept.append(" ")
        elif cat in ("Cc", "Cf", "Cs", "Cn", "Co"):
            continue
        else:
            kept.append(ch)
    out = " ".join("".join(kept).split())
    if limit is not None and len(out) > limit:
        out = out[: limit - 1].rstrip() + "…"
    return out


def _month_name(year: int | None, month: int | None) -> str:
    if year is None or month is None:
        return "—"
    return f"{MONTHS[month - 1]} {year}"


def _unit_price(price: Decimal | None) -> str:
    """As given in the plan: two decimals for whole cents, else every decimal it has (up to 6)."""
    if price is None:
        return ""
    if round_cents(price) == price:
        return money_str(price)
    return format(price.normalize(), "f")


def pdf_file_name(invoice: Invoice, account_slug: str) -> str:
    """``<number>.pdf`` for a final invoice, ``<SLUG>-YYYY-MM-draft.pdf`` otherwise.

    The slug is reduced to letters, digits, ``-`` and ``_`` so the name is safe
    in a download header and on any file system.
    """
    if invoice.status == "final" and invoice.number:
        stem = invoice.number
    else:
        stem = f"{account_slug.upper()}-{invoice.year:04d}-{invoice.month:02d}-draft"
    safe = "".join(ch if (ch.isascii() and (ch.isalnum() or ch in "-_")) else "-" for ch in stem)
    return f"{safe}.pdf"


class _Doc(FPDF):
    """An A4 page with a page-number footer."""

    def __init__(self, unicode: bool):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.unicode = unicode
        self.family = _FAMILY if unicode else "Helvetica"
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)
        self.alias_nb_pages()
        if unicode:
            regular, bold = _font_files()
            self.add_font(_FAMILY, "", str(regular))
            self.add_font(_FAMILY, "B", str(bold))

    def footer(self):
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(110)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")

    def show(self, text: object, limit: int | None = None) -> str:
        """``text`` cleaned and reduced to what the current font can draw."""
        out = clean_text(text, limit)
        if self.unicode:
            chars = _font_chars()
            return "".join(ch if ord(ch) in chars else "\ufffd" for ch in out)
        # Helvetica is Latin-1 only: keep the common punctuation readable, the rest becomes "?".
        for a, b in (("—", "-"), ("–", "-"), ("…", "..."), ("·", "-"), ("’", "'"), ("“", '"'), ("”", '"')):
            out = out.replace(a, b)
        return out.encode("latin-1", "replace").decode("latin-1")

    def para(self, text: str, size: float = 10, style: str = "", height: float = 5.5, limit: int | None = None):
        self.set_font(self.family, style, size)
        self.multi_cell(0, height, self.show(text, limit), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def invoice_pdf(
    invoice: Invoice,
    *,
    account_name: str,
    account_slug: str,
    as_of: datetime | None = None,
) -> bytes:
    """The invoice as a PDF document.

    Parameters
    ----------
    invoice : Invoice
        An account's invoice for a month (``year`` and ``month`` set), draft or final.
    account_name, account_slug : str
        Shown as they are stored (cleaned, see :func:`clean_text`).
    as_of : datetime, optional
        The moment a draft was computed: written on it and used as the
        document's creation date. A final invoice uses its ``closed_at``.

    Returns
    -------
    bytes
        A PDF (A4), the same bytes for the same arguments.
    """
    files = _font_files()
    pdf = _Doc(unicode=files is not None)
    final = invoice.status == "final"
    month = _month_name(invoice.year, invoice.month)
    stamp = invoice.closed_at if final and invoice.closed_at is not None else as_of
    pdf.set_creation_date((stamp or FIXED_DATE).astimezone(timezone.utc))
    pdf.set_creator("Overseer")
    title = f"Invoice {invoice.number}" if final else f"Draft invoice — may still change until {month} closes"
    pdf.set_title(pdf.show(title))
    pdf.add_page()

    pdf.para(title, size=17, style="B", height=8)
    pdf.ln(2)
    pdf.para(account_name, size=12, style="B", height=6, limit=MAX_NAME)
    pdf.para(f"Account {account_slug}", size=9, limit=MAX_NAME)
    pdf.ln(2)
    pdf.para(f"Month: {month}")
    pdf.para(f"Currency: {invoice.currency}")
    if final:
        if invoice.closed_at is not None:
            closed = invoice.closed_at.astimezone(timezone.utc)
            pdf.para(f"Closed {closed:%Y-%m-%d %H:%M} UTC")
    else:
        pdf.para(
            "Status: draft. This is not a final invoice: its lines and total may still change "
            f"until {month} closes."
        )
        if as_of is not None:
            pdf.para(f"As of {as_of.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC")
    pdf.ln(4)

    pdf.set_font(pdf.family, "", 10)
    widths = (88, 24, 30, 32)
    aligns = ("LEFT", "RIGHT", "RIGHT", "RIGHT")
    with pdf.table(
        col_widths=widths,
        text_align=aligns,
        first_row_as_headings=True,
        line_height=6,
        width=sum(widths),
        align="LEFT",
    ) as table:
        head = table.row()
        for label in ("Description", "Quantity", "Unit price", f"Amount ({pdf.show(invoice.currency)})"):
            head.cell(label)
        for line in invoice.lines:
            row = table.row()
            row.cell(pdf.show(line.description, MAX_DESCRIPTION))
            row.cell(f"{line.quantity:,}")
            row.cell(_unit_price(line.unit_price))
            row.cell(money_str(line.amount))
        if not invoice.lines:
            table.row().cell(f"Nothing owed for {month}", colspan=4)
        total = table.row(style=FontFace(emphasis="BOLD"))
        total.cell(f"Total ({pdf.show(invoice.currency)})", colspan=3)
        total.cell(money_str(invoice.total))
    pdf.ln(4)

    pdf.para(f"Free outcomes used this month: {invoice.free_used:,}. Free outcomes left: {invoice.free_remaining:,}.")
    for late in invoice.late:
        noun = "outcome" if late.outcomes == 1 else "outcomes"
        pdf.para(f"Holds {late.outcomes:,} late {noun} of {_month_name(late.year, late.month)}")
    return bytes(pdf.output())
