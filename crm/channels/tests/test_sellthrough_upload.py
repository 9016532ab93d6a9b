"""D5 upload through core's import machinery: dry run, row errors, all-or-nothing, one
file = one report, a re-upload of the same file not counted twice."""

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook

from crm.channels.models import SellThroughLine, SellThroughReport
from crm.channels.models.sellthrough import SellThroughUpload
from crm.core.models import ImportJob

pytest_plugins = ["crm.channels.tests.sellthrough_fixtures"]
UPLOAD = "/portal/sell-through/upload/"


def csv_file(rows, name="sales.csv") -> SimpleUploadedFile:
    text = "\n".join(",".join(str(c) for c in row) for row in rows) + "\n"
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def sales_rows(st, report_id=None, quantity="2"):
    header = ["日期", "产品编码", "数量", "金额", "终端客户", "地区"]
    day = st.yesterday.isoformat()
    rows = [
        [day, "EX-200", quantity, "180000", "杭州西湖建设工程有限公司", "330106"],
        [day, "FL-01", "10", "600", "西湖区市政工程公司", "330106"],
    ]
    if report_id:
        header.insert(0, "report_id")
        rows = [[report_id, *row] for row in rows]
    return [header, *rows]


def upload(client, file, reference=""):
    response = client.post(UPLOAD, {"file": file, "reference": reference})
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportJob.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))


def commit(client, job):
    return client.post(f"{UPLOAD}{job.pk}/commit/")


def test_a_file_is_dry_run_then_stored_as_one_report(st, client_for):
    client = client_for(st.pa_user)

    job = upload(client, csv_file(sales_rows(st, "HT-FILE-1")))

    assert job.status == ImportJob.Status.CHECKED
    assert job.summary["problems"] == 0
    assert SellThroughReport.objects.count() == 0  # the dry run stored nothing
    page = client.get(f"{UPLOAD}{job.pk}/")
    assert page.status_code == 200
    assert 'id="dry-run-ok"' in page.content.decode()

    response = commit(client, job)

    report = SellThroughReport.objects.get()
    assert response.url == f"/portal/sell-through/{report.pk}/"
    assert report.reference == "HT-FILE-1"
    assert report.source == SellThroughReport.Source.UPLOAD
    assert report.partner == st.partner_a
    assert report.line_count == 2
    assert report.total_quantity == Decimal("12")
    assert report.total_amount == Decimal("180600")
    assert SellThroughUpload.objects.get(job=job).report == report


def test_uploading_the_same_file_again_counts_nothing_twice(st, client_for):
    client = client_for(st.pa_user)
    commit(client, upload(client, csv_file(sales_rows(st, "HT-FILE-2"))))

    job = upload(client, csv_file(sales_rows(st, "HT-FILE-2")))
    commit(client, job)

    assert SellThroughReport.objects.count() == 1
    assert SellThroughLine.objects.count() == 2
    assert SellThroughUpload.objects.get(job=job).replayed is True


def test_a_file_without_report_id_is_identified_by_its_content(st, client_for):
    client = client_for(st.pa_user)
    commit(client, upload(client, csv_file(sales_rows(st))))
    first = SellThroughReport.objects.get()
    assert first.reference.startswith("F-")

    commit(client, upload(client, csv_file(sales_rows(st), name="again.csv")))
    commit(client, upload(client, csv_file(sales_rows(st, quantity="3"))))

    assert sorted(
        SellThroughReport.objects.values_list("total_quantity", flat=True)
    ) == [
        Decimal("12"),
        Decimal("13"),
    ]


def test_the_form_reference_names_a_file_without_a_column(st, client_for):
    client = client_for(st.pa_user)
    commit(client, upload(client, csv_file(sales_rows(st)), reference="HT-2026-06"))

    assert SellThroughReport.objects.get().reference == "HT-2026-06"


def test_a_changed_file_under_a_used_report_id_is_refused_whole(
    english, st, client_for
):
    client = client_for(st.pa_user)
    commit(client, upload(client, csv_file(sales_rows(st, "HT-FILE-3"))))

    with translation.override("en"):
        job = upload(client, csv_file(sales_rows(st, "HT-FILE-3", quantity="5")))
        page = client.get(f"{UPLOAD}{job.pk}/").content.decode()

    assert job.summary["problems"] == 1
    assert "HT-FILE-3 was already submitted with different lines" in page
    assert commit(client, job).status_code == 302
    assert SellThroughLine.objects.filter(quantity=5).count() == 0
    assert SellThroughReport.objects.get().total_quantity == Decimal("12")


def test_row_errors_name_row_and_field_and_nothing_is_stored(st, client_for, english):
    client = client_for(st.pa_user)
    rows = sales_rows(st, "HT-BAD")
    rows[1][3] = "0"  # quantity of row 2
    rows[2][2] = "NOPE-1"  # product of row 3

    job = upload(client, csv_file(rows))
    page = client.get(f"{UPLOAD}{job.pk}/").content.decode()

    assert job.summary["problems"] == 2
    assert "The quantity must be greater than 0." in page
    assert "No product “NOPE-1”." in page
    assert 'action="/portal/sell-through/upload/' not in page  # no commit button
    commit(client, job)
    assert SellThroughReport.objects.count() == 0


def test_an_xlsx_file_is_read_too(st, client_for):
    workbook = Workbook()
    sheet = workbook.active
    for row in sales_rows(st, "HT-XLSX"):
        sheet.append(row)
    buf = io.BytesIO()
    workbook.save(buf)
    client = client_for(st.pa_user)

    job = upload(client, SimpleUploadedFile("sales.xlsx", buf.getvalue()))
    commit(client, job)

    assert SellThroughReport.objects.get().reference == "HT-XLSX"


def test_uploads_are_the_partners_own(st, client_for):
    client = client_for(st.pa_user)
    job = upload(client, csv_file(sales_rows(st, "HT-OWN")))
    other = client_for(st.pc_admin)

    assert other.get(f"{UPLOAD}{job.pk}/").status_code == 404
    assert other.post(f"{UPLOAD}{job.pk}/commit/").status_code == 404
    assert other.get(f"{UPLOAD}{job.pk}/errors/").status_code == 404
    assert client_for(st.mgr_a).get(UPLOAD).status_code == 404
    # core's HQ import pages are not for partner users
    assert client.get("/import/channels.sellthrough/").status_code == 404


def test_the_template_lists_the_columns(st, client_for):
    response = client_for(st.pa_user).get(f"{UPLOAD}template/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
