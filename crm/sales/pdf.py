"""Printable sales documents (S3 quotes; contracts and orders can use the same layout).

A document is described by a `PdfDocument` (company, title, number, the parties, priced
lines, totals, the total in Chinese capitals, free sections such as terms) and rendered
by `render_pdf()`. `quote_pdf()` builds the quote's description.

Chinese text is set in Adobe's standard CID font STSong-Light (reportlab's built-in
UnicodeCIDFont, encoding UniGB-UCS2-H): nothing to install or ship, and the text stays
text — it can be searched, copied and extracted (the tests read it back with pypdf).
The font is not embedded: PDF readers use their own Song face for it (Acrobat, Chrome,
Edge, Firefox, WPS and the system viewers on Windows and macOS all have one); a reader
on a machine without any CJK font shows blanks instead of the Chinese text.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import HRFlowable

from crm.core.money import decimals_for, rmb_capitals
from crm.core.params import get_param
from crm.core.templatetags.crm_ui import num

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

LINE_GREY = colors.HexColor("#9aa3ad")
HEAD_FILL = colors.HexColor("#eef1f5")


@dataclass(frozen=True)
class PdfColumn:
    label: str
    width: float  # millimetres
    align: str = "LEFT"  # LEFT, RIGHT or CENTER


@dataclass
class PdfDocument:
    company: str
    title: str
    number: str
    parties: list[tuple[str, str]] = field(default_factory=list)  # label, value
    columns: list[PdfColumn] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    totals: list[tuple[str, str]] = field(default_factory=list)
    amount_in_words: str = ""  # e.g. 人民币壹万贰仟叁佰肆拾伍元陆角柒分
    sections: list[tuple[str, str]] = field(default_factory=list)  # heading, text
    footer: str = ""


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12.5)
    base.wordWrap = "CJK"  # Chinese wraps between any two characters
    return {
        "base": base,
        "company": ParagraphStyle(
            "company", parent=base, fontSize=15, leading=20, alignment=TA_CENTER
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=13, leading=18, alignment=TA_CENTER
        ),
        "number": ParagraphStyle("number", parent=base, alignment=TA_RIGHT),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
        "head": ParagraphStyle("head", parent=base, fontSize=10, leading=14),
        "words": ParagraphStyle("words", parent=base, fontSize=10, leading=14),
        "small": ParagraphStyle(
            "small", parent=base, fontSize=8, leading=10, textColor=colors.grey
        ),
    }


def _p(text, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped; line breaks kept)."""
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def render_pdf(doc: PdfDocument) -> bytes:
    """The document as an A4 PDF."""
    st = _styles()
    out = BytesIO()
    width = A4[0] - 30 * mm
    story: list = [
        _p(doc.company, st["company"]),
        _p(doc.title, st["title"]),
        _p(doc.number, st["number"]),
        HRFlowable(width="100%", thickness=0.8, color=colors.black, spaceAfter=4),
    ]
    if doc.parties:
        cells = [
            [_p(f"{label}：", st["base"]), _p(value, st["base"])]
            for label, value in doc.parties
        ]
        # Two label/value pairs per row.
        pairs = [
            cells[i] + (cells[i + 1] if i + 1 < len(cells) else ["", ""])
            for i in range(0, len(cells), 2)
        ]
        table = Table(pairs, colWidths=[27 * mm, 63 * mm, 27 * mm, 63 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                ]
            )
        )
        story += [table, Spacer(1, 4 * mm)]
    if doc.columns:
        align = {"RIGHT": st["right"], "CENTER": st["center"]}
        head = [_p(c.label, align.get(c.align, st["base"])) for c in doc.columns]
        body = [
            [
                _p(cell, align.get(column.align, st["base"]))
                for column, cell in zip(doc.columns, row, strict=False)
            ]
            for row in doc.rows
        ]
        table = Table(
            [head, *body],
            colWidths=[c.width * mm for c in doc.columns],
            repeatRows=1,
        )
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, LINE_GREY),
                    ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
                ]
            )
        )
        story.append(table)
    if doc.totals:
        rows = [
            [_p(label, st["right"]), _p(value, st["right"])]
            for label, value in doc.totals
        ]
        table = Table(rows, colWidths=[width - 45 * mm, 45 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("LINEBELOW", (0, -1), (-1, -1), 0.8, colors.black),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
                ]
            )
        )
        story += [Spacer(1, 1.5 * mm), table]
    if doc.amount_in_words:
        story += [
            Spacer(1, 2 * mm),
            _p(f"{_('Total in words')}：{doc.amount_in_words}", st["words"]),
        ]
    for heading, text in doc.sections:
        if text:
            story += [Spacer(1, 4 * mm), _p(heading, st["head"]), _p(text, st["base"])]

    def page(canvas, _doc):
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(15 * mm, 10 * mm, doc.footer)
        canvas.drawRightString(
            A4[0] - 15 * mm,
            10 * mm,
            _("Page %(page)s") % {"page": canvas.getPageNumber()},
        )
        canvas.restoreState()

    SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{doc.title} {doc.number}",
        author=doc.company,
        creator="CRM",
    ).build(story, onFirstPage=page, onLaterPages=page)
    return out.getvalue()


def pdf_filename(number: str) -> str:
    """A file name made of the document number: letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", number) + ".pdf"


def _date(value) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


def _money(value: Decimal, places: int) -> str:
    return num(value, places)


def plain(value: Decimal) -> str:
    """A quantity or percentage without trailing zeros: 10.0000 -> 10, 1500 -> 1,500."""
    return f"{Decimal(value).normalize():,f}"


def _percent(value: Decimal) -> str:
    return f"{plain(value)}%"


def quote_pdf_document(quote, lines) -> PdfDocument:
    """What a printed quote shows: the company, the customer, every line, the totals and
    the total in Chinese capitals."""
    places = decimals_for("quote")
    contact = quote.contact
    parties = [
        (_("Customer"), quote.customer.name),
        (_("Quote date"), _date(quote.quoted_on)),
        (_("Contact"), contact.name if contact else "—"),
        (_("Valid until"), _date(quote.valid_until)),
        (_("Subject"), quote.title),
        (_("Currency"), quote.currency),
        (_("Sales representative"), str(quote.owner) if quote.owner else "—"),
        (_("Revision"), str(quote.revision)),
    ]
    columns = [
        PdfColumn(_("No."), 8, "CENTER"),
        PdfColumn(_("Product"), 44),
        PdfColumn(_("Unit"), 10, "CENTER"),
        PdfColumn(_("Quantity"), 15, "RIGHT"),
        PdfColumn(_("Unit price"), 22, "RIGHT"),
        PdfColumn(_("Discount"), 15, "RIGHT"),
        PdfColumn(_("Amount excl. tax"), 25, "RIGHT"),
        PdfColumn(_("Tax rate"), 13, "RIGHT"),
        PdfColumn(_("Total"), 28, "RIGHT"),
    ]
    rows = []
    for index, line in enumerate(lines, start=1):
        product = line.product
        name = f"{product.code} {product.name}"
        detail = line.description or product.specification
        rows.append(
            [
                str(index),
                f"{name}\n{detail}" if detail else name,
                product.unit,
                plain(line.quantity),
                num(line.unit_price),
                _percent(line.discount_percent),
                _money(line.amount, places),
                _percent(line.tax_rate),
                _money(line.total, places),
            ]
        )
    totals = [
        (_("Amount excl. tax"), _money(quote.amount, places)),
        (_("Tax"), _money(quote.tax_amount, places)),
        (_("Total"), f"{quote.currency} {_money(quote.total, places)}"),
    ]
    words = rmb_capitals(quote.total) if quote.currency == "CNY" else ""
    return PdfDocument(
        company=str(get_param("company_name")),
        title=_("Quotation"),
        number=f"{_('No.')} {quote.number}",
        parties=parties,
        columns=columns,
        rows=rows,
        totals=totals,
        amount_in_words=words,
        sections=[(_("Terms"), quote.terms), (_("Notes"), quote.notes)],
        footer=_("Printed %(when)s")
        % {"when": f"{timezone.localtime():%Y-%m-%d %H:%M}"},
    )


def quote_pdf(quote, lines) -> bytes:
    return render_pdf(quote_pdf_document(quote, lines))
