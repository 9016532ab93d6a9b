"""C4 import machinery (crm/core/imports.py) with its first user, the product import:
reading xlsx and csv (UTF-8, UTF-8 with BOM, GBK), header recognition in Chinese and
English, dry run fates, match-key updates, all-or-nothing commits, malformed files,
formula injection, permissions, data scope, field rights, background jobs and the pages.

In CI (.ci/run) REDIS_URL is set and a real Celery worker runs the background job against
the test database (transaction=True); without it the task runs in-process (eager).
"""

import csv
import io
import os
import time
import zipfile
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from crm.core import imports
from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.models import AuditEvent, ImportJob
from crm.core.scopes import DataScope
from crm.core.tests import pages
from crm.org.models import User
from crm.org.tests.factories import UserFactory, make_role
from crm.products.models import Product
from crm.products.tests.factories import CategoryFactory

pytestmark = pytest.mark.usefixtures("english")

REAL_WORKER = bool(settings.REDIS_URL)
KEY = "products.product"
HEADERS_ZH = ["产品编码", "产品名称", "类别", "单价", "规格型号", "备注"]
HEADERS_EN = ["Product code", "Product name", "Category", "List price", "Spec", "Notes"]
PRODUCT_PERMS = (
    "products.view_product",
    "products.add_product",
    "products.change_product",
    "products.view_cost",
)


# Files


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def csv_bytes(rows, encoding="utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


# Fixtures


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a temporary media root (the real worker in CI shares the
    configured one, so the background-job test keeps it)."""
    if not REAL_WORKER:
        settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def category(db):
    return CategoryFactory(name="传感器", code="SEN")


@pytest.fixture
def importer(org):
    """A catalogue manager of the east branch: add and change products, sees cost, all
    records; no export permission (importing does not need it)."""
    role = make_role("importer", *PRODUCT_PERMS, scope=DataScope.ALL)
    org.manager.groups.set([role])
    return User.objects.get(pk=org.manager.pk)


@pytest.fixture
def product(importer, category):
    return Product.objects.create(
        code="P-0001",
        name="温度传感器",
        category=category,
        list_price=Decimal("100.00"),
        cost=Decimal("60.00"),
        owner=importer,
        department=importer.department,
    )


def rows_zh(*data_rows):
    return [HEADERS_ZH, *data_rows]


def start(actor, name, data, **configure) -> ImportJob:
    """Upload, keep the suggested mapping (or the given one), and run the dry run."""
    job = imports.import_upload(actor=actor, key=KEY, upload=upload(name, data))
    job = imports.import_configure(
        actor=actor,
        job=job,
        mapping=configure.get("mapping", job.mapping),
        match_key=configure.get("match_key", "code"),
    )
    job, _background = imports.import_check(actor=actor, job=job)
    return job


def fates(job) -> dict[int, str]:
    return {r["row"]: r["fate"] for r in imports.job_results(job)}


def result_for(job, row: int) -> dict:
    return next(r for r in imports.job_results(job) if r["row"] == row)


def reasons(job, row: int) -> str:
    return " | ".join(f"{f}: {m}" for f, m in result_for(job, row).get("errors", []))


def report_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# Headers


def test_headers_are_recognised_in_chinese_and_english(importer):
    """C4: a column-mapping step that recognises Chinese and English headers."""
    spec = imports.import_spec(KEY)
    targets = spec.targets(importer)
    assert imports.suggest_mapping(HEADERS_ZH, targets) == [
        "code",
        "name",
        "category",
        "list_price",
        "specification",
        "description",
    ]
    assert imports.suggest_mapping(HEADERS_EN, targets) == [
        "code",
        "name",
        "category",
        "list_price",
        "specification",
        "description",
    ]
    # Marks, brackets, case and spacing do not matter; unknown and repeated headers
    # are left unmapped.
    assert imports.suggest_mapping(
        ["产品编码*", "LIST_PRICE (CNY)", "成本（元）", "颜色", "产品编号"], targets
    ) == ["code", "list_price", "cost", "", ""]


def test_hidden_fields_are_not_offered(org, category, product):
    """Y5: a user who may not see cost cannot import it; the cost column is ignored."""
    role = make_role("no-cost", *PRODUCT_PERMS[:3], scope=DataScope.ALL)  # no view_cost
    clerk = UserFactory(department=org.east, roles=[role])
    assert "cost" not in imports.import_spec(KEY).targets(clerk)

    job = start(
        clerk,
        "p.csv",
        csv_bytes([["产品编码", "成本", "单价"], ["P-0001", "1.00", "120"]]),
    )
    assert job.mapping == ["code", "", "list_price"]
    imports.import_commit(actor=clerk, job=job)
    product.refresh_from_db()
    assert (product.cost, product.list_price) == (Decimal("60.00"), Decimal("120.00"))


# Reading: xlsx, csv in UTF-8, UTF-8 with BOM, GBK


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("products.xlsx", xlsx_bytes),
        ("products.csv", lambda rows: csv_bytes(rows, "utf-8")),
        ("products-bom.csv", lambda rows: "\ufeff".encode() + csv_bytes(rows)),
        ("products-gbk.csv", lambda rows: csv_bytes(rows, "gbk")),
    ],
)
def test_files_in_every_format_import_chinese_text_intact(
    importer, category, name, make
):
    data = make(
        rows_zh(
            ["P-1001", "压力传感器", "传感器", 199.5, "PT-100 量程0-10MPa", "室外型"],
            ["P-1002", "液位计", "SEN", "1,280.00", "", ""],
        )
    )
    job = start(importer, name, data)

    assert job.status == ImportJob.Status.CHECKED
    assert job.mapping == [
        "code",
        "name",
        "category",
        "list_price",
        "specification",
        "description",
    ]
    assert fates(job) == {2: "new", 3: "new"}
    assert not Product.objects.filter(code__in=["P-1001", "P-1002"]).exists()

    job, background = imports.import_commit(actor=importer, job=job)
    assert (job.status, background) == (ImportJob.Status.DONE, False)
    first = Product.objects.get(code="P-1001")
    assert first.name == "压力传感器"
    assert first.specification == "PT-100 量程0-10MPa"
    assert first.description == "室外型"
    assert first.list_price == Decimal("199.50")
    assert first.category == category
    assert first.owner == importer
    second = Product.objects.get(code="P-1002")
    assert (second.name, second.list_price) == ("液位计", Decimal("1280.00"))
    assert AuditEvent.objects.filter(object_id=str(first.pk), action="create").exists()


def test_gbk_csv_is_really_gbk():
    """The GBK case is not UTF-8 in disguise: the bytes fail as UTF-8 and read as GBK."""
    data = csv_bytes([["产品编码", "产品名称"], ["P-1", "压力传感器"]], "gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    table = imports.read_table(data, "gbk.csv")
    assert table.headers == ["产品编码", "产品名称"]
    assert table.rows == [(2, ["P-1", "压力传感器"])]


def test_row_numbers_are_the_spreadsheets(importer):
    """Row numbers in results are those the user sees: empty rows and quoted line breaks
    are counted as the spreadsheet counts them."""
    data = b'code,name\r\nP-1,"two\r\nlines"\r\n,\r\nP-2,x\r\n'
    table = imports.read_table(data, "x.csv")
    assert [n for n, _cells in table.rows] == [2, 4]
    workbook = xlsx_bytes(
        [[None], ["code", "name"], ["P-1", "a"], [None], ["P-2", "b"]]
    )
    assert [n for n, _c in imports.read_table(workbook, "x.xlsx").rows] == [3, 5]


# Dry run


def test_dry_run_shows_every_rows_fate_and_stores_nothing(importer, category, product):
    """C4: new, update (of which record), unchanged, duplicate-of, error with field and
    reason; nothing is stored and nothing is audited."""
    events = AuditEvent.objects.count()
    data = csv_bytes(
        rows_zh(
            ["P-2001", "流量计", "传感器", "300", "", ""],  # 2 new
            ["p-0001", "温度传感器", "传感器", "150", "", ""],  # 3 update (any case)
            ["P-2002", "流量计二代", "没有的类别", "300", "", ""],  # 4 error: category
            ["P-2001", "流量计", "传感器", "300", "", ""],  # 5 duplicate of row 2
            ["P-2003", "", "传感器", "abc", "", ""],  # 6 error: price, no name
            ["P-2004", "阀门", "传感器", "-5", "", ""],  # 7 error from the service
        )
    )
    job = start(importer, "dry.csv", data)

    assert fates(job) == {
        2: "new",
        3: "update",
        4: "error",
        5: "duplicate",
        6: "error",
        7: "error",
    }
    assert job.summary == {
        "new": 1,
        "update": 1,
        "unchanged": 0,
        "duplicate": 1,
        "error": 3,
        "problems": 4,
    }
    assert result_for(job, 3)["record"] == {"pk": product.pk, "repr": str(product)}
    assert result_for(job, 5)["duplicate_of"] == 2
    assert "Same product code as row 2" in reasons(job, 5)
    assert "category: No category “没有的类别”." in reasons(job, 4)
    assert "list price: Not a number." in reasons(job, 6)
    assert "product name: Required for a new record." in reasons(job, 6)
    assert "list price: A price cannot be negative." in reasons(job, 7)

    assert not Product.objects.filter(code__startswith="P-2").exists()
    product.refresh_from_db()
    assert (product.list_price, product.version) == (Decimal("100.00"), 1)
    assert AuditEvent.objects.count() == events

    with pytest.raises(Invalid):
        imports.import_commit(actor=importer, job=job)  # problems: no commit


def test_unchanged_rows_are_not_written(importer, category, product):
    data = csv_bytes(rows_zh(["P-0001", "温度传感器", "SEN", "100", "", ""]))
    job = start(importer, "same.csv", data)
    assert fates(job) == {2: "unchanged"}
    assert job.summary["unchanged"] == 1


# Match key: re-import updates


def test_reimport_updates_by_the_match_key(importer, category, product):
    """C4: a re-import updates the existing record instead of duplicating it; empty cells
    keep the stored value; the key itself is not rewritten; the change is audited."""
    data = csv_bytes(
        [["产品编码", "单价", "规格"], ["p-0001", "188.8", "TS-01"], ["P-0002", "", ""]]
    )
    job = start(importer, "update.csv", data, mapping=["code", "list_price", ""])
    assert fates(job) == {2: "update", 3: "error"}  # P-0002 would be new: no name
    assert "Required for a new record" in reasons(job, 3)

    data = csv_bytes([["产品编码", "单价"], ["p-0001", "188.8"]])
    job = start(importer, "update.csv", data)
    job, _bg = imports.import_commit(actor=importer, job=job)
    assert job.status == ImportJob.Status.DONE
    assert Product.objects.filter(code__iexact="p-0001").count() == 1
    product.refresh_from_db()
    assert product.code == "P-0001"
    assert product.list_price == Decimal("188.80")
    assert product.name == "温度传感器"
    assert product.version == 2
    event = AuditEvent.objects.get(object_id=str(product.pk), action="update")
    assert event.changes["list_price"] == ["100.000000", "188.800000"]
    assert event.actor == importer


def test_matching_a_record_outside_the_scope_is_an_error(org, category):
    """Y5: an update may only match records the user can see; a key used outside the scope
    is an error on its row ("already used"), never an overwrite nor a duplicate."""
    role = make_role("own-only", *PRODUCT_PERMS, scope=DataScope.OWN)
    rep = UserFactory(department=org.east, roles=[role])
    theirs = Product.objects.create(
        code="P-9000",
        name="别人的产品",
        category=category,
        owner=org.rep_c,
        department=org.south,
    )
    data = csv_bytes(
        [
            ["产品编码", "产品名称", "类别"],
            ["P-9000", "改名", "SEN"],
            ["P-9001", "新", "SEN"],
        ]
    )
    job = start(rep, "scope.csv", data)

    assert fates(job) == {2: "error", 3: "new"}
    assert (
        reasons(job, 2) == "product code: “P-9000” is already used by another record."
    )
    theirs.refresh_from_db()
    assert theirs.name == "别人的产品"


def test_update_without_change_permission_is_refused_on_its_row(org, category, product):
    """The row service authorises: may add but not change -> update rows fail."""
    role = make_role(
        "adder", "products.view_product", "products.add_product", scope=DataScope.ALL
    )
    adder = UserFactory(department=org.east, roles=[role])
    data = csv_bytes(
        [
            ["产品编码", "产品名称", "类别"],
            ["P-0001", "改名", "SEN"],
            ["P-3001", "新", "SEN"],
        ]
    )
    job = start(adder, "perm.csv", data)
    assert fates(job) == {2: "error", 3: "new"}
    assert "permission" in reasons(job, 2)


# All or nothing


def test_commit_is_all_or_nothing_with_a_bad_row_in_the_middle(
    importer, category, product, client_for
):
    """C4: the dry run passed, then the category of row 3 of 5 was deactivated before
    the commit: the commit stores nothing at all (rows 2, 4, 5 included, and the update
    of P-0001), the job fails and the error report lists row 3 with field and reason."""
    retired = CategoryFactory(name="旧型号", code="OLD")
    data = csv_bytes(
        rows_zh(
            ["P-4001", "甲", "SEN", "10", "", ""],
            ["P-4002", "乙", "OLD", "10", "", ""],
            ["P-0001", "温度传感器", "SEN", "111", "", ""],
            ["P-4004", "丁", "SEN", "10", "", ""],
        )
    )
    job = start(importer, "middle.csv", data)
    assert job.summary["problems"] == 0
    retired.is_active = False
    retired.save()
    events = AuditEvent.objects.count()

    job, _bg = imports.import_commit(actor=importer, job=job)

    assert job.status == ImportJob.Status.FAILED
    assert fates(job) == {2: "new", 3: "error", 4: "update", 5: "new"}
    assert reasons(job, 3) == "category: This category is inactive."
    assert not Product.objects.filter(code__startswith="P-4").exists()
    product.refresh_from_db()
    assert (product.list_price, product.version) == (Decimal("100.00"), 1)
    assert AuditEvent.objects.count() == events

    response = client_for(importer).get(f"/import/{KEY}/{job.pk}/errors/")
    assert response.status_code == 200
    rows = report_rows(response.content)
    assert rows[0][:4] == ["Row", "Result", "Field", "Reason"]
    assert rows[0][4:] == HEADERS_ZH
    assert len(rows) == 2
    assert rows[1][:4] == [3, "Error", "category", "This category is inactive."]
    assert rows[1][4:7] == ["P-4002", "乙", "OLD"]


def test_execute_rolls_back_every_row_when_one_fails(importer, category):
    """The machinery itself: rows before and after a bad one are not kept."""
    data = csv_bytes(
        rows_zh(
            ["P-5001", "甲", "SEN", "10", "", ""],
            ["P-5002", "乙", "SEN", "-1", "", ""],
            ["P-5003", "丙", "SEN", "10", "", ""],
        )
    )
    job = imports.import_upload(actor=importer, key=KEY, upload=upload("x.csv", data))
    results = imports.import_execute(job, commit=True)
    assert [r.fate for r in results] == ["new", "error", "new"]
    assert not Product.objects.filter(code__startswith="P-5").exists()


# Malformed files


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("report.xlsx", docx_bytes, "This is not an Excel workbook (.xlsx)."),
        ("picture.xlsx", lambda: PNG, "This is not an Excel workbook (.xlsx)."),
        ("picture.csv", lambda: PNG, "This is not a CSV text file."),
        ("empty.csv", lambda: b"", "The file is empty."),
        ("blank.csv", lambda: b"\r\n,,\r\n", "The file is empty."),
        ("empty.xlsx", lambda: xlsx_bytes([]), "The file is empty."),
        (
            "header.csv",
            lambda: csv_bytes([HEADERS_ZH]),
            "The file has a header row but no data rows below it.",
        ),
        (
            "header.xlsx",
            lambda: xlsx_bytes([HEADERS_ZH]),
            "The file has a header row but no data rows below it.",
        ),
        (
            "broken.xlsx",
            lambda: xlsx_bytes(rows_zh(["P-1", "a", "SEN"]))[:600],
            "The file is damaged: it cannot be opened as an Excel workbook.",
        ),
        (
            "old.xls",
            lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "Old Excel files (.xls) are not supported.",
        ),
        (
            "notes.pdf",
            lambda: b"%PDF-1.4 ...",
            "Upload an Excel workbook (.xlsx) or a CSV",
        ),
        (
            "many.csv",
            lambda: csv_bytes(rows_zh(*[[f"P-{i}", "x", "SEN"] for i in range(6)])),
            "The file has more than 5 rows. Split it into smaller files.",
        ),
    ],
)
def test_malformed_files_get_a_clear_error_never_a_500(
    importer, client_for, settings, name, make, message
):
    settings.CRM_IMPORT_MAX_ROWS = 5
    client = client_for(importer)

    response = client.post(f"/import/{KEY}/", {"file": upload(name, make())})

    assert response.status_code == 400
    assert message in pages.text(response)
    assert not ImportJob.objects.exists()


def test_a_file_over_the_size_limit_is_refused(importer, settings):
    settings.CRM_IMPORT_MAX_BYTES = 1024
    data = csv_bytes(rows_zh(*[[f"P-{i}", "x" * 50, "SEN"] for i in range(40)]))
    with pytest.raises(Invalid, match="larger than"):
        imports.import_upload(actor=importer, key=KEY, upload=upload("big.csv", data))


def test_no_file_chosen(importer, client_for):
    response = client_for(importer).post(f"/import/{KEY}/", {})
    assert response.status_code == 400
    assert "Choose a file." in pages.text(response)


# Formula injection


def test_formula_cells_are_refused_row_by_row(importer, category):
    """Cells a spreadsheet would run ("=cmd|…", "@SUM", "+1+2", an xlsx formula) are
    refused with a reason on their row; signed numbers and phone numbers are not
    formulas. The error report neutralises what it echoes back."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS_ZH)
    sheet.append(["P-6001", "=cmd|' /C calc'!A0", "SEN", 10, None, None])
    sheet.append(["P-6002", "正常", "SEN", 10, "+86 138 0000 0000", None])
    sheet.append(["P-6003", "@SUM(1+1)*cmd|' /C calc'!A0", "SEN", 10, None, None])
    sheet.append(["P-6004", "好的", "SEN", 10, "+1+2", "-"])
    sheet.append(["P-6005", "公式", "SEN", "=1+1", None, None])  # a formula cell
    sheet.append(["P-6006", "负数", "SEN", "-5", None, None])
    buf = io.BytesIO()
    workbook.save(buf)

    job = start(importer, "formulas.xlsx", buf.getvalue())

    assert fates(job) == {
        2: "error",
        3: "new",
        4: "error",
        5: "error",
        6: "error",
        7: "error",
    }
    assert reasons(job, 2).startswith(
        "product name: Starts with “=” like a spreadsheet"
    )
    assert reasons(job, 4).startswith("product name: Starts with “@”")
    assert reasons(job, 5).startswith("specification: Starts with “+”")
    assert reasons(job, 6).startswith("list price: Starts with “=”")
    assert reasons(job, 7) == "list price: A price cannot be negative."

    report = report_rows(imports.import_error_report(job))
    row2 = next(r for r in report[1:] if r[0] == 2)
    assert row2[5] == "'=cmd|' /C calc'!A0"  # neutralised, as exports do
    assert all(
        not (isinstance(cell, str) and cell.startswith(("=", "+", "@")))
        for row in report
        for cell in row
    )


# Permissions


def test_import_needs_the_modules_add_or_change_permission(org, client_for):
    """Y5: without add/change product the import pages answer 403; export permission is
    neither needed nor enough."""
    role = make_role(
        "viewer", "products.view_product", "core.export_data", scope=DataScope.ALL
    )
    viewer = UserFactory(department=org.east, roles=[role])
    client = client_for(viewer)
    data = csv_bytes(rows_zh(["P-7001", "甲", "SEN"]))

    assert client.get(f"/import/{KEY}/").status_code == 403
    assert (
        client.post(f"/import/{KEY}/", {"file": upload("a.csv", data)}).status_code
        == 403
    )
    assert client.get(f"/import/{KEY}/template/").status_code == 403
    assert not ImportJob.objects.exists()
    with pytest.raises(Forbidden):
        imports.import_upload(actor=viewer, key=KEY, upload=upload("a.csv", data))


def test_a_job_is_seen_by_its_owner_only(importer, category, org, client_for):
    job = start(importer, "a.csv", csv_bytes(rows_zh(["P-7101", "甲", "SEN"])))
    other = client_for(org.admin)
    for suffix in ("", "map/", "errors/"):
        assert other.get(f"/import/{KEY}/{job.pk}/{suffix}").status_code == 404
    assert other.post(f"/import/{KEY}/{job.pk}/commit/").status_code == 404
    assert client_for(importer).get(f"/import/{KEY}/{job.pk}/").status_code == 200
    assert client_for(importer).get(f"/import/nope/{job.pk}/").status_code == 404


def test_a_job_is_committed_once(importer, category):
    job = start(importer, "a.csv", csv_bytes(rows_zh(["P-7201", "甲", "SEN"])))
    imports.import_commit(actor=importer, job=job)
    with pytest.raises(Conflict):
        imports.import_commit(actor=importer, job=job)
    with pytest.raises(Conflict):
        imports.import_configure(
            actor=importer, job=job, mapping=job.mapping, match_key="code"
        )
    assert Product.objects.filter(code="P-7201").count() == 1


def test_mapping_is_validated(importer, category):
    job = imports.import_upload(
        actor=importer,
        key=KEY,
        upload=upload("m.csv", csv_bytes(rows_zh(["P-1", "甲", "SEN"]))),
    )
    with pytest.raises(Invalid) as taken:
        imports.import_configure(
            actor=importer,
            job=job,
            mapping=["code", "name", "name", "", "", ""],
            match_key="code",
        )
    assert "column_2" in taken.value.fields
    with pytest.raises(Invalid) as unmatched:
        imports.import_configure(
            actor=importer,
            job=job,
            mapping=["", "name", "category", "", "", ""],
            match_key="code",
        )
    assert "match_key" in unmatched.value.fields
    with pytest.raises(Invalid):
        imports.import_configure(
            actor=importer, job=job, mapping=[""] * 6, match_key="code"
        )


# Background jobs


def wait_for(job: ImportJob, statuses, timeout: float = 60) -> ImportJob:
    deadline = time.monotonic() + timeout
    while True:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        assert time.monotonic() < deadline, f"import job still {job.status}"
        time.sleep(0.2)


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_large_imports_run_in_the_background_with_the_same_result(
    org, importer, category, client_for, settings, django_capture_on_commit_callbacks
):
    """X3/C4: above CRM_IMPORT_SYNC_LIMIT rows the dry run and the commit are Celery
    jobs with progress; they end DONE with the same fates as an import in the request."""
    data = csv_bytes(
        rows_zh(*[[f"P-8{i:03d}", f"产品{i}", "SEN", "10", "", ""] for i in range(12)])
    )
    settings.CRM_IMPORT_SYNC_LIMIT = 100
    in_request = start(importer, "small.csv", data)
    expected = imports.job_results(in_request)

    settings.CRM_IMPORT_SYNC_LIMIT = 5
    client = client_for(importer)
    job = imports.import_upload(actor=importer, key=KEY, upload=upload("big.csv", data))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/import/{KEY}/{job.pk}/map/",
                {f"column_{i}": m for i, m in enumerate(job.mapping)}
                | {"match_key": "code"},
            )
        assert response.status_code == 302
        job = wait_for(job, {ImportJob.Status.CHECKED, ImportJob.Status.FAILED})
        assert job.status == ImportJob.Status.CHECKED, job.error
        assert imports.job_results(job) == expected
        assert (job.done, job.total) == (12, 12)

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/import/{KEY}/{job.pk}/commit/")
        assert response.status_code == 302
        job = wait_for(job, {ImportJob.Status.DONE, ImportJob.Status.FAILED})
        assert job.status == ImportJob.Status.DONE, job.error
        assert [r["fate"] for r in imports.job_results(job)] == ["new"] * 12
        assert Product.objects.filter(code__startswith="P-8").count() == 12
        _host, pid = job.worker.rsplit(":", 1)
        assert (int(pid) != os.getpid()) is REAL_WORKER

        page = client.get(f"/import/{KEY}/{job.pk}/")
        assert "Imported: 12 new, 0 updated, 0 unchanged." in pages.text(page)
        # the polling partial tells a finished page to reload itself
        poll = client.get(f"/import/{KEY}/{job.pk}/", headers={"HX-Request": "true"})
        assert poll["HX-Refresh"] == "true"
    finally:
        for stored in ImportJob.objects.all():
            for f in (stored.file, stored.report):
                if f:
                    f.delete(save=False)


def test_a_running_job_shows_its_progress(importer, category, client_for):
    job = imports.import_upload(
        actor=importer,
        key=KEY,
        upload=upload("p.csv", csv_bytes(rows_zh(["P-1", "甲", "SEN"]))),
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.IMPORTING)
    client = client_for(importer)
    page = client.get(f"/import/{KEY}/{job.pk}/")
    assert 'hx-trigger="every 1s"' in page.content.decode()
    assert "0 of 1 rows" in pages.text(page)
    poll = client.get(f"/import/{KEY}/{job.pk}/", headers={"HX-Request": "true"})
    assert "Importing" in pages.text(poll)
    assert "HX-Refresh" not in poll


# Children: repeated groups of columns


def test_child_groups_reach_the_row_service_as_lists(importer, category):
    """A spec with child rows (customers with contacts): "联系人1姓名" / "Contact 2 mobile"
    headers are recognised, each filled group becomes one item, required child fields
    are checked."""
    received = []

    class WithContacts(imports.ImportSpec):
        key = "test.with-contacts"
        model = Product
        fields = (imports.ImportField("code", "code", ("编码",), required=True),)
        children = (
            imports.ChildSpec(
                "contacts",
                "contact",
                (
                    imports.ImportField("name", "name", ("姓名",), required=True),
                    imports.ImportField("mobile", "mobile", ("手机",)),
                ),
                count=2,
                prefixes=("联系人{n}",),
            ),
        )
        match_keys = (imports.MatchKey("code", "code", "code"),)
        add_perm = "products.add_product"

        def row_service(self, *, actor, data, existing):
            received.append(data)
            return Product.objects.create(
                code=data["code"], name="x", category=category
            )

    imports.register_import(WithContacts)
    try:
        headers = [
            "编码",
            "联系人1姓名",
            "联系人1手机",
            "Contact 2 name",
            "contact2 mobile",
        ]
        targets = WithContacts().targets(importer)
        mapping = imports.suggest_mapping(headers, targets)
        assert mapping == [
            "code",
            "contacts.1.name",
            "contacts.1.mobile",
            "contacts.2.name",
            "contacts.2.mobile",
        ]
        data = csv_bytes(
            [
                headers,
                ["C-1", "张三", "13800000000", "", ""],
                ["C-2", "李四", "", "", "13900000000"],
            ]
        )
        job = imports.import_upload(
            actor=importer, key="test.with-contacts", upload=upload("c.csv", data)
        )
        assert job.mapping == mapping
        job = imports.import_configure(
            actor=importer, job=job, mapping=mapping, match_key="code"
        )
        results = imports.import_execute(job, commit=False)
        assert [r.fate for r in results] == ["new", "error"]
        assert received == [
            {"code": "C-1", "contacts": [{"name": "张三", "mobile": "13800000000"}]}
        ]
        assert results[1].errors == [["contact 2: name", "Required."]]
        template = report_rows(imports.import_template(WithContacts(), importer))[0]
        assert template == [
            "code",
            "contact 1: name",
            "contact 1: mobile",
            "contact 2: name",
            "contact 2: mobile",
        ]
        assert imports.suggest_mapping(template, targets) == list(targets)
    finally:
        imports.IMPORT_REGISTRY.pop("test.with-contacts")


# Pages


def test_product_import_walk_through(importer, category, product, client_for):
    """The pages a user goes through: upload, mapping (recognised headers, changeable),
    dry run with every row's fate, import, result."""
    client = client_for(importer)
    page = client.get(f"/import/{KEY}/")
    assert page.status_code == 200
    text = pages.text(page)
    assert "Import Products" in text
    assert "Product code" in text
    assert "List price" in text

    data = csv_bytes(
        [
            ["产品编码", "Product Name", "分类", "价格", "颜色"],
            ["P-9101", "新产品", "传感器", "50", "红"],
            ["P-0001", "温度传感器", "传感器", "120", "蓝"],
        ]
    )
    response = client.post(f"/import/{KEY}/", {"file": upload("新产品.csv", data)})
    job = ImportJob.objects.get(user=importer)
    assert response.status_code == 302
    assert response["Location"] == f"/import/{KEY}/{job.pk}/map/"

    page = client.get(response["Location"])
    html = page.content.decode()
    assert '<option value="code" selected>' in html
    assert '<option value="list_price" selected>' in html
    assert "新产品.csv" in pages.text(page)
    assert "红" in pages.text(page)  # first values shown

    # The user maps the colour column to the specification and runs the dry run.
    form = {
        "column_0": "code",
        "column_1": "name",
        "column_2": "category",
        "column_3": "list_price",
        "column_4": "specification",
        "match_key": "code",
    }
    response = client.post(f"/import/{KEY}/{job.pk}/map/", form)
    assert response["Location"] == f"/import/{KEY}/{job.pk}/"
    page = client.get(response["Location"])
    text = pages.text(page)
    assert "Dry run passed" in text
    html = page.content.decode()
    assert 'id="count-new">1<' in html
    assert 'id="count-update">1<' in html
    assert "Import 2 rows" in text
    assert not Product.objects.filter(code="P-9101").exists()
    assert f'href="/products/{product.pk}/"' in html  # the record an update changes

    response = client.post(f"/import/{KEY}/{job.pk}/commit/")
    assert response["Location"] == f"/import/{KEY}/{job.pk}/"
    page = client.get(response["Location"])
    assert "Imported: 1 new, 1 updated, 0 unchanged." in pages.text(page)
    new = Product.objects.get(code="P-9101")
    assert (new.specification, new.list_price) == ("红", Decimal("50.00"))
    assert f'href="/products/{new.pk}/"' in page.content.decode()
    product.refresh_from_db()
    assert (product.specification, product.list_price) == ("蓝", Decimal("120.00"))

    # A second commit is refused and the upload page lists the job.
    client.post(f"/import/{KEY}/{job.pk}/commit/")
    assert Product.objects.filter(code="P-9101").count() == 1
    assert "新产品.csv" in pages.text(client.get(f"/import/{KEY}/"))


def test_dry_run_page_with_problems(importer, category, client_for):
    client = client_for(importer)
    data = csv_bytes(
        rows_zh(
            ["P-9201", "甲", "SEN", "10", "", ""],
            ["P-9201", "甲", "SEN", "10", "", ""],
            ["P-9203", "乙", "SEN", "x", "", ""],
        )
    )
    client.post(f"/import/{KEY}/", {"file": upload("bad.csv", data)})
    job = ImportJob.objects.get(user=importer)
    form = {f"column_{i}": m for i, m in enumerate(job.mapping)} | {"match_key": "code"}
    page = client.get(client.post(f"/import/{KEY}/{job.pk}/map/", form)["Location"])
    text = pages.text(page)
    assert "2 rows have problems" in text
    assert "Same product code as row 2." in text
    assert "List price: Not a number." in text
    assert "Import 1 row" not in text
    assert f"/import/{KEY}/{job.pk}/errors/" in page.content.decode()
    only_errors = pages.text(client.get(f"/import/{KEY}/{job.pk}/", {"fate": "error"}))
    assert "Not a number." in only_errors
    assert "Same product code" not in only_errors

    report = report_rows(client.get(f"/import/{KEY}/{job.pk}/errors/").content)
    assert [(r[0], r[1], r[2]) for r in report[1:]] == [
        (3, "Duplicate", "product code"),
        (4, "Error", "list price"),
    ]


def test_mapping_errors_are_shown_on_the_page(importer, category, client_for):
    client = client_for(importer)
    client.post(
        f"/import/{KEY}/",
        {"file": upload("m.csv", csv_bytes(rows_zh(["P-1", "甲", "SEN"])))},
    )
    job = ImportJob.objects.get(user=importer)
    response = client.post(
        f"/import/{KEY}/{job.pk}/map/",
        {"column_0": "name", "column_1": "name", "match_key": "code"},
    )
    assert response.status_code == 400
    text = pages.text(response)
    assert "is already taken by column 1" in text
    assert "Map a column to “product code” to match on it." in text


def test_template_lists_the_importable_columns(importer, client_for):
    """The downloadable template's headers are recognised as they are."""
    response = client_for(importer).get(f"/import/{KEY}/template/")
    assert response.status_code == 200
    header = report_rows(response.content)[0]
    assert header[:3] == ["product code", "product name", "category"]
    assert "cost" in header
    targets = imports.import_spec(KEY).targets(importer)
    assert imports.suggest_mapping(header, targets) == list(targets)


def test_an_uploaded_job_opens_on_its_mapping(importer, category, client_for):
    job = imports.import_upload(
        actor=importer,
        key=KEY,
        upload=upload("p.csv", csv_bytes(rows_zh(["P-1", "甲", "SEN"]))),
    )
    response = client_for(importer).get(f"/import/{KEY}/{job.pk}/")
    assert response["Location"] == f"/import/{KEY}/{job.pk}/map/"
