"""S3 printable quote: a PDF whose text (Chinese included) can be read back, with the
total in Chinese capitals, served inline under the quote's number."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from pypdf import PdfReader

from crm.sales.pdf import PdfColumn, PdfDocument, pdf_filename, render_pdf
from crm.sales.services import quotes as services

pytest_plugins = ["crm.sales.tests.quotes_support"]
pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    reader = PdfReader(BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def quote(quote_org, make_quote, product, set_param):
    set_param("company_name", "华夏智造集团有限公司")
    quote = make_quote(
        title="挖掘机采购报价",
        terms="款到发货，质保一年。",
        lines=[(product, "2", "6172.835", "0")],
    )
    contact = quote.customer.contacts.get()
    return services.quote_update(
        actor=quote.owner, obj=quote, data={"contact": contact}, version=quote.version
    )


def test_quote_pdf_is_served_inline_with_its_number(client_for, quote_org, quote):
    response = client_for(quote_org.rep_a).get(
        reverse("sales:quote-pdf", args=[quote.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{quote.number}.pdf"'
    assert response.content.startswith(b"%PDF-")


def test_quote_pdf_text_reads_back(client_for, quote_org, quote):
    response = client_for(quote_org.rep_a).get(
        reverse("sales:quote-pdf", args=[quote.pk])
    )
    content = pdf_text(response.content)
    # 2 × 6172.835 = 12345.67; 13% tax 1604.94; total 13950.61
    assert quote.total == Decimal("13950.61")
    assert "华夏智造集团有限公司" in content
    assert "杭州西湖科技有限公司" in content  # the customer
    assert "赵敏" in content  # the contact
    assert "HX-100 液压挖掘机" in content
    assert "12,345.67" in content
    assert "13,950.61" in content
    assert "人民币壹万叁仟玖佰伍拾元陆角壹分" in content
    assert quote.number in content
    assert "款到发货，质保一年。" in content


def test_quote_pdf_is_not_served_outside_the_scope(client_for, quote_org, quote):
    response = client_for(quote_org.rep_c).get(
        reverse("sales:quote-pdf", args=[quote.pk])
    )
    assert response.status_code == 404


def test_many_lines_run_over_pages(quote_org, make_quote, make_product):
    """A long quote repeats the table header and numbers every page."""
    products = [make_product(name=f"配件{n}") for n in range(60)]
    quote = make_quote(lines=[(p, "1", "10", "0") for p in products])
    from crm.sales.pdf import quote_pdf
    from crm.sales.selectors.quotes import quote_lines

    data = quote_pdf(quote, list(quote_lines(quote=quote)))
    reader = PdfReader(BytesIO(data))
    assert len(reader.pages) >= 2
    assert "配件59" in reader.pages[-1].extract_text()


def test_render_pdf_is_reusable_for_other_documents():
    data = render_pdf(
        PdfDocument(
            company="华夏智造集团",
            title="销售合同",
            number="HT000001",
            parties=[("甲方", "杭州西湖科技有限公司")],
            columns=[PdfColumn("产品", 100), PdfColumn("金额", 80, "RIGHT")],
            rows=[["液压挖掘机 <b>&", "100.00"]],
            totals=[("合计", "100.00")],
            amount_in_words="人民币壹佰元整",
        )
    )
    content = pdf_text(data)
    for expected in (
        "销售合同",
        "HT000001",
        "甲方",
        "液压挖掘机 <b>&",
        "人民币壹佰元整",
    ):
        assert expected in content


@pytest.mark.parametrize(
    ("number", "filename"),
    [
        ("BJ000012", "BJ000012.pdf"),
        ("BJ000012-2", "BJ000012-2.pdf"),
        ("BJ/26 01", "BJ_26_01.pdf"),
    ],
)
def test_pdf_filename(number, filename):
    assert pdf_filename(number) == filename
