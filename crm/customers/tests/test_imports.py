"""C4 customer import (crm/customers/imports.py) through core's import machinery:
customers with up to three contacts per row from xlsx and csv (UTF-8, GBK), Chinese and
English headers, regions, owners and parent companies by name, the three match keys,
dry-run fates, the all-or-nothing commit with its error report, background jobs and the
pages a user goes through.
"""

import csv
import io
import os
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from crm.core import imports
from crm.core.errors import Forbidden
from crm.core.models import AuditEvent, ImportJob, Sequence
from crm.core.scopes import DataScope
from crm.core.tests import pages
from crm.core.validators import uscc_check_character
from crm.customers.models import Contact, Customer
from crm.customers.tests.conftest import EDIT, VIEW
from crm.customers.tests.factories import ContactFactory, CustomerFactory
from crm.org.tests.factories import UserFactory, make_role

pytestmark = pytest.mark.usefixtures("english")

KEY = "customers.customer"
# In CI (.ci/run) REDIS_URL is set and a real Celery worker runs background jobs against
# the test database; without it the task runs in-process (eager).
REAL_WORKER = bool(settings.REDIS_URL)
HEADERS_ZH = [
    "客户名称",
    "统一社会信用代码",
    "电话",
    "所属地区",
    "负责人",
    "联系人1姓名",
    "联系人1手机",
    "联系人1职位",
]


def uscc(n: int) -> str:
    """A valid unified social credit code (GB 32100-2015 check character)."""
    first17 = f"91440300{n:09d}"
    return first17 + uscc_check_character(first17)


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


def report_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# Fixtures and steps


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads go to a temporary media root, except with a real Celery worker (CI), which
    reads the configured one."""
    if not REAL_WORKER:
        settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def importer(make_user):
    """Adds and changes customers and contacts, sees every customer, and may give
    customers to other owners (the 负责人 column)."""
    return make_user(
        *EDIT, "customers.assign_customer", username="importer", name="导入员"
    )


def start(actor, name, data, match_key=None, mapping=None) -> ImportJob:
    """Upload, keep the suggested mapping and match key (or the given ones), dry run."""
    job = imports.import_upload(actor=actor, key=KEY, upload=upload(name, data))
    job = imports.import_configure(
        actor=actor,
        job=job,
        mapping=mapping or job.mapping,
        match_key=match_key or job.match_key,
    )
    job, _background = imports.import_check(actor=actor, job=job)
    return job


def commit(actor, job) -> ImportJob:
    job, _background = imports.import_commit(actor=actor, job=job)
    return job


def fates(job) -> dict[int, str]:
    return {r["row"]: r["fate"] for r in imports.job_results(job)}


def reasons(job, row: int) -> str:
    result = next(r for r in imports.job_results(job) if r["row"] == row)
    return " | ".join(f"{f}: {m}" for f, m in result.get("errors", []))


# Headers


def test_chinese_and_english_headers_are_recognised(importer):
    """C4: every importable customer field and three contacts, by Chinese or English
    header (marks and spacing do not matter)."""
    targets = imports.import_spec(KEY).targets(importer)
    chinese = [
        "客户编号",
        "客户名称*",
        "统一社会信用代码",
        "电话",
        "财务电话",
        "地址",
        "邮编",
        "邮箱",
        "网址",
        "行业",
        "级别",
        "类型",
        "状态",
        "信用等级",
        "信用额度",
        "所属地区",
        "负责人",
        "上级单位",
        "助记码",
        "登记日期",
        "备注",
        "联系人1姓名",
        "联系人1手机",
        "联系人1职位",
        "联系人1邮箱",
        "联系人2姓名",
        "联系人2手机",
        "联系人3姓名",
        "联系人3性别",
        "联系人3电话",
        "联系人3部门",
        "联系人3生日",
    ]
    english = [
        "Customer number",
        "Customer name",
        "Unified social credit code",
        "Main phone",
        "Finance phone",
        "Office address",
        "Postcode",
        "Email",
        "Homepage",
        "Industry",
        "Level",
        "Type",
        "Status",
        "Credit rating",
        "Credit limit",
        "Region",
        "Owner",
        "Parent company",
        "Mnemonic code",
        "Registration time",
        "Notes",
        "Contact 1 name",
        "Contact 1 mobile",
        "Contact 1 position",
        "Contact 1 email",
        "Contact 2 name",
        "Contact2 Mobile",
        "Contact 3 name",
        "Contact 3 gender",
        "Contact 3 office phone",
        "Contact 3 department",
        "Contact 3 birthday",
    ]
    expected = [
        "number",
        "name",
        "credit_code",
        "main_phone",
        "finance_phone",
        "address",
        "postcode",
        "email",
        "homepage",
        "industry",
        "level",
        "type",
        "status",
        "credit_rating",
        "credit_limit",
        "region",
        "owner",
        "parent",
        "mnemonic",
        "registered_at",
        "notes",
        "contacts.1.name",
        "contacts.1.mobile",
        "contacts.1.position",
        "contacts.1.email",
        "contacts.2.name",
        "contacts.2.mobile",
        "contacts.3.name",
        "contacts.3.gender",
        "contacts.3.office_phone",
        "contacts.3.department_name",
        "contacts.3.birthday",
    ]
    assert imports.suggest_mapping(chinese, targets) == expected
    assert imports.suggest_mapping(english, targets) == expected
    # Separate region columns; a bare "联系人" is the first contact's name.
    assert imports.suggest_mapping(
        ["公司名称", "省份", "城市", "区县", "联系人", "联系人电话", "颜色"], targets
    ) == [
        "name",
        "province",
        "city",
        "district",
        "contacts.1.name",
        "contacts.1.office_phone",
        "",
    ]


def test_template_lists_customer_and_contact_columns(importer, client_for):
    response = client_for(importer).get(f"/import/{KEY}/template/")
    header = report_rows(response.content)[0]
    assert header[:2] == ["customer number", "customer name"]
    assert "contact 3: mobile" in header
    targets = imports.import_spec(KEY).targets(importer)
    assert imports.suggest_mapping(header, targets) == list(targets)


def test_restricted_fields_are_not_offered(make_user):
    """Y5: a field the user's role hides or makes read-only is not an import column."""
    user = make_user(
        *EDIT,
        field_rights={
            "customers.customer": {"credit_limit": "readonly"},
            "customers.contact": {"mobile": "hidden"},
        },
    )
    targets = imports.import_spec(KEY).targets(user)
    assert "credit_limit" not in targets
    assert "contacts.1.mobile" not in targets
    assert "contacts.1.name" in targets


# New customers with contacts, in every format


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("customers.xlsx", xlsx_bytes),
        ("customers.csv", lambda rows: csv_bytes(rows, "utf-8")),
        ("customers-gbk.csv", lambda rows: csv_bytes(rows, "gbk")),
    ],
)
def test_customers_with_contacts_are_imported_from_xlsx_and_csv(importer, name, make):
    """C4: new customers get the next number and a mnemonic from their name, their
    contacts are stored with the first one primary, the importer owns them, and every
    record is in the audit trail."""
    data = make(
        [
            [*HEADERS_ZH, "联系人2姓名", "联系人2手机"],
            [
                "北京华为技术有限公司",
                uscc(1),
                "010-12345678",
                "北京市 朝阳区",
                "",
                "张伟",
                "13800138000",
                "采购经理",
                "李娜",
                "13900139000",
            ],
            [
                "深圳腾飞科技有限公司",
                "",
                "13700137000",
                "广东省 深圳市 南山区",
                "",
                "",
                "",
                "",
                "",
                "",
            ],
        ]
    )
    job = start(importer, name, data)
    assert job.match_key == "credit_code"  # the first key the file has a column for
    assert fates(job) == {2: "new", 3: "new"}
    assert not Customer.objects.exists()  # a dry run stores nothing

    job = commit(importer, job)

    assert job.status == ImportJob.Status.DONE, job.error
    huawei = Customer.objects.get(name="北京华为技术有限公司")
    assert huawei.number.endswith("000001")
    assert huawei.mnemonic == "BJHWJSYXGS"
    assert huawei.credit_code == uscc(1)
    assert huawei.region.full_name == "北京市 朝阳区"
    assert (huawei.owner, huawei.department) == (importer, importer.department)
    contacts = {c.name: c for c in huawei.contacts.all()}
    assert set(contacts) == {"张伟", "李娜"}
    assert contacts["张伟"].is_primary
    assert not contacts["李娜"].is_primary
    assert contacts["张伟"].mobile == "13800138000"
    assert contacts["张伟"].position == "采购经理"
    assert contacts["张伟"].responsible == importer
    tengfei = Customer.objects.get(name="深圳腾飞科技有限公司")
    assert tengfei.region.code == "440305"
    assert not tengfei.contacts.exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CREATE).count() == 4


def test_every_customer_field_is_imported(importer, org):
    """Every importable field reaches the customer, with values as people type them."""
    parent = CustomerFactory(name="华为投资控股有限公司", owner=importer)
    row = {
        "客户名称": "华为终端有限公司",
        "助记码": "HWZD",
        "统一社会信用代码": uscc(7).lower(),
        "电话": "0755 28780808",
        "财务电话": "+86 139 0013 9000",
        "地址": "松山湖园区",
        "邮编": 523808,
        "邮箱": "info@example.cn",
        "网址": "www.example.cn",
        "行业": "制造业",
        "级别": "A类",
        "类型": "经销商",
        "状态": "成交客户",
        "信用等级": "AA",
        "信用额度": "¥1,000,000.50",
        "省": "广东省",
        "市": "东莞市",
        "负责人": "rep_a",
        "上级单位": parent.number,
        "登记日期": "2024-03-01",
        "备注": "重点跟进",
        "联系人1姓名": "王芳",
        "联系人1性别": "女",
        "联系人1电话": "0769-22334455",
        "联系人1邮箱": "wang@example.cn",
        "联系人1部门": "采购部",
        "联系人1生日": "1990-05-06",
    }
    job = start(importer, "all.csv", csv_bytes([list(row), list(row.values())]))
    assert fates(job) == {2: "new"}, reasons(job, 2)
    commit(importer, job)

    c = Customer.objects.get(name="华为终端有限公司")
    assert c.mnemonic == "HWZD"
    assert c.credit_code == uscc(7)
    assert (c.main_phone, c.finance_phone) == ("0755-28780808", "13900139000")
    assert (c.address, c.postcode, c.email) == (
        "松山湖园区",
        "523808",
        "info@example.cn",
    )
    assert c.homepage == "https://www.example.cn"
    assert (c.industry, c.level, c.type, c.status) == (
        "manufacturing",
        "a",
        "dealer",
        "active",
    )
    assert (c.credit_rating, c.credit_limit) == ("AA", Decimal("1000000.50"))
    assert c.region.full_name == "广东省 东莞市"
    assert (c.owner, c.department) == (org.rep_a, org.rep_a.department)
    assert c.parent == parent
    assert timezone.localtime(c.registered_at).date().isoformat() == "2024-03-01"
    assert c.notes == "重点跟进"
    contact = c.contacts.get()
    assert (contact.gender, contact.office_phone, contact.email) == (
        "female",
        "0769-22334455",
        "wang@example.cn",
    )
    assert (contact.department_name, contact.birthday.isoformat()) == (
        "采购部",
        "1990-05-06",
    )
    assert contact.is_primary


# Regions, owners, parent companies


@pytest.mark.parametrize(
    "text",
    ["广东省 深圳市 南山区", "广东省深圳市南山区", "广东 深圳 南山", "深圳市/南山区"],
)
def test_a_region_is_found_by_its_names(importer, text):
    job = start(importer, "r.csv", csv_bytes([["客户名称", "地区"], ["甲公司", text]]))
    commit(importer, job)
    assert Customer.objects.get().region.code == "440305"


def test_unknown_or_ambiguous_regions_are_errors_naming_the_field(importer):
    """An unknown place is an error on the row naming its column; so is a district
    name several cities have (朝阳区 is in 北京 and 长春)."""
    job = start(
        importer,
        "r.csv",
        csv_bytes(
            [
                ["客户名称", "所属地区"],
                ["甲", "火星 奥林匹斯山"],
                ["乙", "朝阳区"],
                ["丙", "吉林省 长春市 朝阳区"],
            ]
        ),
    )
    assert fates(job) == {2: "error", 3: "error", 4: "new"}
    assert reasons(job, 2) == "region: No region “火星 奥林匹斯山”."
    assert reasons(job, 3).startswith("region: “朝阳区” is in several places")
    assert "北京市 朝阳区" in reasons(job, 3)


def test_separate_province_city_district_columns(importer):
    job = start(
        importer,
        "r.csv",
        csv_bytes(
            [
                ["客户名称", "省", "市", "区"],
                ["甲", "北京市", "", "朝阳区"],
                ["乙", "广东省", "火星市", "南山区"],
                ["丙", "广东", "深圳", "南山区"],
            ]
        ),
    )
    assert fates(job) == {2: "new", 3: "error", 4: "new"}
    assert reasons(job, 3) == "city: No region “火星市”."
    rows = [["客户名称", "省", "市", "区"], ["甲", "北京市", "", "朝阳区"]]
    rows.append(["丙", "广东", "深圳", "南山区"])
    commit(importer, start(importer, "r.csv", csv_bytes(rows)))
    regions = dict(Customer.objects.values_list("name", "region__code"))
    assert regions == {"甲": "110105", "丙": "440305"}


def test_owner_by_user_name_or_name_must_be_an_active_employee(importer, org):
    org.rep_c.is_active = False
    org.rep_c.save()
    job = start(
        importer,
        "o.csv",
        csv_bytes(
            [
                ["客户名称", "负责人"],
                ["甲", "rep_a"],
                ["乙", "陈二"],
                ["丙", "王三"],  # rep_c has left
                ["丁", "无此人"],
                ["戊", ""],
            ]
        ),
    )
    assert fates(job) == {2: "new", 3: "new", 4: "error", 5: "error", 6: "new"}
    assert reasons(job, 4) == (
        "owner: No active employee has the user name or name “王三”."
    )
    rows = [["客户名称", "负责人"], ["甲", "rep_a"], ["乙", "陈二"], ["戊", ""]]
    commit(importer, start(importer, "o.csv", csv_bytes(rows)))
    owners = dict(Customer.objects.values_list("name", "owner__username"))
    assert owners == {"甲": "rep_a", "乙": "rep_b", "戊": "importer"}


def test_parent_company_by_number_or_name_even_from_an_earlier_row(importer, org):
    group = CustomerFactory(name="华润集团", owner=importer)
    hidden = CustomerFactory(name="别人的集团", owner=org.rep_c)
    scoped = UserFactory(
        department=org.east, roles=[make_role("own", *EDIT, scope=DataScope.OWN)]
    )
    CustomerFactory(name="自己的客户", owner=scoped)
    rows = [
        ["客户名称", "上级单位"],
        ["华润置地", group.number],
        ["华润万家", "华润集团"],
        ["华润万家南京", "华润万家"],  # created two rows above
        ["孤儿", "没有这家"],
    ]
    job = start(importer, "p.csv", csv_bytes(rows))
    assert fates(job) == {2: "new", 3: "new", 4: "new", 5: "error"}
    assert reasons(job, 5) == (
        "parent company: No customer you can see has the number or name “没有这家”."
    )
    job = start(importer, "p.csv", csv_bytes(rows[:4]))
    commit(importer, job)
    wanjia = Customer.objects.get(name="华润万家")
    assert wanjia.parent == group
    assert Customer.objects.get(name="华润万家南京").parent == wanjia

    # A parent outside the user's data scope is not found.
    job = start(scoped, "p.csv", csv_bytes([rows[0], ["子公司", hidden.number]]))
    assert fates(job) == {2: "error"}
    assert "parent company: No customer you can see" in reasons(job, 2)


def test_references_are_looked_up_per_batch_not_per_row(importer, org):
    """Regions load once per import, owners and parent companies with one query per
    batch: no query per row for them (N+1)."""
    parents = [CustomerFactory(name=f"母公司{i}", owner=importer) for i in range(30)]
    owners = ["rep_a", "陈二", "manager", "导入员"]
    places = ["广东省 深圳市 南山区", "北京市 朝阳区", "浙江 杭州 西湖"]
    rows = [["客户名称", "所属地区", "负责人", "上级单位"]] + [
        [f"客户{i}", places[i % 3], owners[i % 4], parent.number]
        for i, parent in enumerate(parents)
    ]
    job = imports.import_upload(
        actor=importer, key=KEY, upload=upload("n.csv", csv_bytes(rows))
    )
    job = imports.import_configure(
        actor=importer, job=job, mapping=job.mapping, match_key="name"
    )
    with CaptureQueriesContext(connection) as captured:
        results = imports.import_execute(job, commit=False)
    assert {r.fate for r in results} == {"new"}
    sqls = [q["sql"] for q in captured.captured_queries]
    region_loads = [s for s in sqls if 'FROM "customers_region" ORDER BY' in s]
    owner_lookups = [s for s in sqls if 'FROM "org_user"' in s and "LOWER" in s]
    parent_lookups = [s for s in sqls if 'LOWER("customers_customer"."number")' in s]
    assert (len(region_loads), len(owner_lookups), len(parent_lookups)) == (1, 1, 1)


def test_an_unchanged_reimport_makes_no_query_per_row(importer, org):
    """Re-importing customers that did not change costs the same queries for 5 rows
    as for 25: references are compared by id, contacts come with their customers."""
    parent = CustomerFactory(name="集团总部", owner=importer)

    def dry_run_queries(count: int) -> int:
        rows = [["客户名称", "所属地区", "负责人", "上级单位", "联系人1姓名"]] + [
            [f"客户{i}", "北京市 朝阳区", "rep_a", parent.number, f"联系人{i}"]
            for i in range(count)
        ]
        data = csv_bytes(rows)
        commit(importer, start(importer, "u.csv", data, "name"))
        job = imports.import_upload(
            actor=importer, key=KEY, upload=upload("u.csv", data)
        )
        job = imports.import_configure(
            actor=importer, job=job, mapping=job.mapping, match_key="name"
        )
        with CaptureQueriesContext(connection) as captured:
            results = imports.import_execute(job, commit=False)
        assert {r.fate for r in results} == {"unchanged"}
        return len(captured.captured_queries)

    assert dry_run_queries(5) == dry_run_queries(25)


# Match keys: a re-import updates


@pytest.fixture
def existing(importer):
    customer = CustomerFactory(
        name="上海电气集团有限公司",
        credit_code=uscc(42),
        main_phone="021-55556666",
        owner=importer,
    )
    ContactFactory(
        customer=customer, name="赵敏", mobile="13600136000", is_primary=True
    )
    ContactFactory(customer=customer, name="孙立", mobile="")
    return customer


@pytest.mark.parametrize("key", ["number", "credit_code", "name"])
def test_a_reimport_updates_by_the_chosen_match_key(importer, existing, key):
    """C4: matched by number, credit code or name, a row updates the customer instead of
    making a duplicate; its contacts are matched by name and mobile (updated) or
    added."""
    header = ["客户编号", "客户名称", "统一社会信用代码", "电话"]
    header += [
        "联系人1姓名",
        "联系人1手机",
        "联系人1职位",
        "联系人2姓名",
        "联系人2手机",
    ]
    header += ["联系人3姓名", "联系人3手机"]
    row = [existing.number, existing.name, existing.credit_code, "021-12345678"]
    row += [
        "赵敏",
        "13600136000",
        "总经理",
        "周强",
        "13500135000",
        "孙立",
        "13300133000",
    ]
    columns = {"number": [0], "credit_code": [2], "name": [1]}[key]
    mapping = imports.suggest_mapping(
        header, imports.import_spec(KEY).targets(importer)
    )
    mapping = [
        m if i in columns or m not in ("number", "name", "credit_code") else ""
        for i, m in enumerate(mapping)
    ]
    version = existing.version

    job = start(importer, "u.csv", csv_bytes([header, row]), key, mapping)
    assert fates(job) == {2: "update"}, reasons(job, 2)
    commit(importer, job)

    assert Customer.objects.count() == 1
    existing.refresh_from_db()
    assert existing.main_phone == "021-12345678"
    assert existing.version == version + 1
    contacts = {c.name: c for c in existing.contacts.all()}
    assert set(contacts) == {"赵敏", "孙立", "周强"}
    assert contacts["赵敏"].position == "总经理"
    assert contacts["赵敏"].is_primary
    assert contacts["孙立"].mobile == "13300133000"  # had no mobile: same person
    assert not contacts["周强"].is_primary

    # The same file again changes nothing: unchanged, no new version.
    job = start(importer, "u.csv", csv_bytes([header, row]), key, mapping)
    assert fates(job) == {2: "unchanged"}
    existing.refresh_from_db()
    assert existing.version == version + 1


def test_a_contact_with_another_mobile_is_added(importer, existing):
    job = start(
        importer,
        "c.csv",
        csv_bytes(
            [
                ["客户名称", "联系人1姓名", "联系人1手机"],
                [existing.name, "赵敏", "13611112222"],
            ]
        ),
        "name",
    )
    assert fates(job) == {2: "update"}
    commit(importer, job)
    assert sorted(existing.contacts.values_list("name", "mobile")) == [
        ("孙立", ""),
        ("赵敏", "13600136000"),
        ("赵敏", "13611112222"),
    ]


def test_customers_outside_the_data_scope_are_not_updated(importer, existing, org):
    """Y5: a rep who sees only their own customers cannot update another's by import;
    the row is an error, and no duplicate is made."""
    rep = UserFactory(
        department=org.east, roles=[make_role("rep", *EDIT, scope=DataScope.OWN)]
    )
    own = CustomerFactory(name="自己的客户", owner=rep)
    rows = [["客户名称", "电话"], [existing.name, "021-99998888"]]
    rows.append([own.name, "021-99997777"])
    job = start(rep, "s.csv", csv_bytes(rows), "name")
    assert fates(job) == {2: "error", 3: "update"}
    assert reasons(job, 2) == (
        "customer name: “上海电气集团有限公司” is already used by another record."
    )

    job = start(rep, "s.csv", csv_bytes([rows[0], rows[2]]), "name")
    commit(rep, job)
    own.refresh_from_db()
    assert own.main_phone == "021-99997777"
    assert Customer.objects.count() == 2


def test_numbers_come_from_the_sequence(importer, existing):
    """A number that names no customer is refused (new customers get the next one); so
    is a number that differs from the customer the row matched."""
    job = start(
        importer,
        "n.csv",
        csv_bytes(
            [
                ["客户编号", "客户名称", "统一社会信用代码"],
                ["C-999999", "新客户", ""],
                ["", "另一个新客户", ""],
                ["C-888888", existing.name, existing.credit_code],
            ]
        ),
        "credit_code",
    )
    assert fates(job) == {2: "error", 3: "new", 4: "error"}
    assert reasons(job, 2).startswith("customer number: No customer has the number")
    assert reasons(job, 4) == (
        f"customer number: The matched customer has the number {existing.number}."
    )


def test_merged_and_deleted_customers_are_not_matched(importer, existing, boss):
    """A tombstone of a merge shares its survivor's name without making the name
    ambiguous."""
    from crm.customers.services import customer_merge

    twin = CustomerFactory(name=existing.name, owner=importer)
    customer_merge(actor=boss, survivor=existing, merged=[twin])
    job = start(
        importer,
        "m.csv",
        csv_bytes([["客户名称", "电话"], [existing.name, "021-11112222"]]),
        "name",
    )
    assert fates(job) == {2: "update"}, reasons(job, 2)


# Dry run and commit


def test_the_dry_run_shows_every_rows_fate(importer, existing):
    """C4: new, update, unchanged, duplicate of an earlier row, and errors with the
    field and the reason (credit code check character, phones, e-mails); nothing is
    stored."""
    rows = [
        ["客户名称", "统一社会信用代码", "电话", "邮箱", "联系人1姓名", "联系人1手机"],
        ["新公司", uscc(100), "", "", "", ""],  # 2 new
        [existing.name, existing.credit_code, "021-77778888", "", "", ""],  # 3 update
        ["无变化", uscc(101), "", "", "", ""],  # 4 new
        ["重复", uscc(100), "", "", "", ""],  # 5 duplicate of row 2
        ["坏代码", "91440300000000000X", "", "", "", ""],  # 6 bad check character
        ["坏电话", "", "12345", "", "", ""],  # 7
        ["坏邮箱", "", "", "not-an-email", "", ""],  # 8
        ["坏联系人", "", "", "", "小王", "555"],  # 9
        ["", uscc(102), "", "", "", ""],  # 10 no name
    ]
    before = (Customer.objects.count(), Contact.objects.count())
    job = start(importer, "d.csv", csv_bytes(rows), "credit_code")
    assert fates(job) == {
        2: "new",
        3: "update",
        4: "new",
        5: "duplicate",
        6: "error",
        7: "error",
        8: "error",
        9: "error",
        10: "error",
    }
    results = {r["row"]: r for r in imports.job_results(job)}
    assert results[5]["duplicate_of"] == 2
    assert reasons(job, 5) == (
        "unified social credit code: Same unified social credit code as row 2."
    )
    assert reasons(job, 6) == (
        "unified social credit code: The check character of this credit code is "
        "wrong: please check it."
    )
    assert reasons(job, 7).startswith("main phone: Enter a mobile number")
    assert reasons(job, 8) == "email: Enter a valid email address."
    assert reasons(job, 9).startswith("contact 1: mobile: Enter a mobile number")
    assert reasons(job, 10) == "customer name: Required for a new record."
    assert results[3]["record"]["pk"] == existing.pk
    assert (Customer.objects.count(), Contact.objects.count()) == before
    assert job.summary["problems"] == 6

    # The same customer again, unchanged.
    job = start(
        importer,
        "d.csv",
        csv_bytes([rows[0], [existing.name, existing.credit_code, "", "", "", ""]]),
        "credit_code",
    )
    assert fates(job) == {2: "unchanged"}


def test_commit_is_all_or_nothing_with_a_bad_row_in_the_middle(importer):
    """C4: ten rows, the sixth has a bad credit code: the commit stores nothing (no
    customer, contact, number or audit row) and the error report lists the row number,
    the field and the reason."""
    rows = [HEADERS_ZH]
    for i in range(10):
        code = "91440300MA5FXXXX0Y" if i == 4 else uscc(200 + i)
        rows.append([f"公司{i}", code, "", "", "", f"联系人{i}", "13800138000", ""])
    data = csv_bytes(rows)
    job = start(importer, "ten.csv", data, "name")
    assert fates(job)[6] == "error"
    assert list(fates(job).values()).count("new") == 9

    # Force the commit past the dry run: the commit itself refuses the whole file.
    ImportJob.objects.filter(pk=job.pk).update(summary={"problems": 0})
    job.refresh_from_db()
    job = commit(importer, job)

    assert job.status == ImportJob.Status.FAILED
    assert "Nothing was imported: 1 rows have problems." in job.error
    assert not Customer.objects.exists()
    assert not Contact.objects.exists()
    assert not AuditEvent.objects.exists()
    assert not Sequence.objects.filter(key="customers.customer", next_value__gt=1)

    report = report_rows(imports.import_error_report(job))
    assert report[0][:4] == ["Row", "Result", "Field", "Reason"]
    assert [r[:3] for r in report[1:]] == [[6, "Error", "unified social credit code"]]
    assert report[1][3] == (
        "The check character of this credit code is wrong: please check it."
    )
    assert report[1][4] == "公司4"  # the row's cells follow


def test_a_commit_with_no_problems_stores_every_row(importer):
    rows = [HEADERS_ZH] + [
        [f"公司{i}", uscc(300 + i), "", "", "", f"联系人{i}", "13800138000", ""]
        for i in range(10)
    ]
    job = start(importer, "ten.csv", csv_bytes(rows), "credit_code")
    job = commit(importer, job)
    assert job.status == ImportJob.Status.DONE
    assert job.summary["new"] == 10
    assert Customer.objects.count() == 10
    assert Contact.objects.filter(is_primary=True).count() == 10
    numbers = sorted(Customer.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 10


def test_contacts_need_the_contact_permission(make_user):
    """Rows go through the contact services: without add_contact the row's contact is
    refused and names its group."""
    user = make_user(*VIEW, "customers.add_customer", "customers.change_customer")
    job = start(
        user,
        "p.csv",
        csv_bytes([["客户名称", "联系人1姓名"], ["甲", "张三"], ["乙", ""]]),
        "name",
    )
    assert fates(job) == {2: "error", 3: "new"}
    assert reasons(job, 2).startswith("contact 1: ")


# Malformed files and formulas (core checks these; one each through the customer spec)


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("empty.csv", lambda: b"", "The file is empty."),
        (
            "broken.xlsx",
            lambda: xlsx_bytes([HEADERS_ZH, ["甲"]])[:500],
            "The file is damaged: it cannot be opened as an Excel workbook.",
        ),
        ("photo.png", lambda: b"\x89PNG\r\n", "Upload an Excel workbook (.xlsx)"),
    ],
)
def test_malformed_files_get_a_clear_error(importer, client_for, name, make, message):
    response = client_for(importer).post(
        f"/import/{KEY}/", {"file": upload(name, make())}
    )
    assert response.status_code == 400
    assert message in pages.text(response)
    assert not ImportJob.objects.exists()


def test_formula_cells_are_refused(importer):
    job = start(
        importer,
        "f.csv",
        csv_bytes(
            [
                ["客户名称", "备注", "联系人1姓名"],
                ["=cmd|' /C calc'!A0", "", ""],
                ["好公司", "@SUM(1+1)", ""],
                ["又一家", "", "+1+2"],
            ]
        ),
        "name",
    )
    assert fates(job) == {2: "error", 3: "error", 4: "error"}
    assert reasons(job, 2).startswith("customer name: Starts with “=”")
    assert reasons(job, 3).startswith("notes: Starts with “@”")
    assert reasons(job, 4).startswith("contact 1: name: Starts with “+”")


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
def test_large_customer_imports_run_as_background_jobs(
    importer, client_for, settings, django_capture_on_commit_callbacks
):
    """X3/C4: above CRM_IMPORT_SYNC_LIMIT rows the customer dry run and commit run as
    Celery jobs with progress, and end with every row and contact stored. (No region
    column: with a real worker the test database is flushed afterwards, and the
    divisions are migration data.)"""
    settings.CRM_IMPORT_SYNC_LIMIT = 5
    rows = [["客户名称", "统一社会信用代码", "负责人", "联系人1姓名", "联系人1手机"]]
    rows += [[f"后台{i}", uscc(400 + i), "rep_a", f"人{i}", ""] for i in range(12)]
    client = client_for(importer)
    try:
        response = client.post(
            f"/import/{KEY}/", {"file": upload("big.csv", csv_bytes(rows))}
        )
        job = ImportJob.objects.get(user=importer)
        assert response["Location"] == f"/import/{KEY}/{job.pk}/map/"
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/import/{KEY}/{job.pk}/map/",
                {f"column_{i}": m for i, m in enumerate(job.mapping)}
                | {"match_key": "credit_code"},
            )
        assert response.status_code == 302
        page = client.get(f"/import/{KEY}/{job.pk}/")
        assert "background" in pages.text(page)
        job = wait_for(job, {ImportJob.Status.CHECKED, ImportJob.Status.FAILED})
        assert job.status == ImportJob.Status.CHECKED, job.error
        assert (job.done, job.total, job.summary["new"]) == (12, 12, 12)
        assert not Customer.objects.exists()

        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/import/{KEY}/{job.pk}/commit/")
        job = wait_for(job, {ImportJob.Status.DONE, ImportJob.Status.FAILED})
        assert job.status == ImportJob.Status.DONE, job.error
        assert Customer.objects.filter(owner__username="rep_a").count() == 12
        assert Contact.objects.filter(is_primary=True).count() == 12
        _host, pid = job.worker.rsplit(":", 1)
        assert (int(pid) != os.getpid()) is REAL_WORKER
        page = client.get(f"/import/{KEY}/{job.pk}/")
        assert "Imported: 12 new, 0 updated, 0 unchanged." in pages.text(page)
    finally:
        for stored in ImportJob.objects.all():
            for f in (stored.file, stored.report):
                if f:
                    f.delete(save=False)


# Pages


def test_customer_import_walk_through(importer, existing, client_for):
    """The pages: the Import button on the customer list, upload, mapping (recognised
    headers, the match key), dry run with each row's fate, import, result."""
    client = client_for(importer)
    listing = client.get("/customers/")
    assert f'href="/import/{KEY}/"' in listing.content.decode()

    page = client.get(f"/import/{KEY}/")
    assert page.status_code == 200
    text = pages.text(page)
    assert "Import Customers" in text
    assert "unified social credit code" in text.lower()

    data = xlsx_bytes(
        [
            ["Customer name", "Credit code", "Main phone", "Region", "Contact 1 name"],
            [
                "新客户有限公司",
                uscc(500),
                "13800138000",
                "浙江省 杭州市 西湖区",
                "钱多",
            ],
            [existing.name, existing.credit_code, "021-66667777", "", ""],
        ]
    )
    response = client.post(f"/import/{KEY}/", {"file": upload("客户.xlsx", data)})
    job = ImportJob.objects.get(user=importer)
    assert response["Location"] == f"/import/{KEY}/{job.pk}/map/"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert '<option value="credit_code" selected>' in html
    assert '<option value="contacts.1.name" selected>' in html
    assert "客户.xlsx" in pages.text(page)

    response = client.post(
        f"/import/{KEY}/{job.pk}/map/",
        {f"column_{i}": m for i, m in enumerate(job.mapping)}
        | {"match_key": "credit_code"},
    )
    assert response["Location"] == f"/import/{KEY}/{job.pk}/"
    page = client.get(response["Location"])
    text = pages.text(page)
    assert "Dry run passed" in text
    html = page.content.decode()
    assert 'id="count-new">1<' in html
    assert 'id="count-update">1<' in html
    assert f'href="/customers/{existing.pk}/"' in html
    assert not Customer.objects.filter(name="新客户有限公司").exists()

    response = client.post(f"/import/{KEY}/{job.pk}/commit/")
    page = client.get(response["Location"])
    assert "Imported: 1 new, 1 updated, 0 unchanged." in pages.text(page)
    new = Customer.objects.get(name="新客户有限公司")
    assert new.region.full_name == "浙江省 杭州市 西湖区"
    assert new.contacts.get().name == "钱多"
    assert f'href="/customers/{new.pk}/"' in page.content.decode()
    existing.refresh_from_db()
    assert existing.main_phone == "021-66667777"


def test_the_dry_run_page_lists_problems_and_offers_the_error_report(
    importer, client_for
):
    client = client_for(importer)
    data = csv_bytes([["客户名称", "电话"], ["甲", "12345"], ["乙", "13800138000"]])
    client.post(f"/import/{KEY}/", {"file": upload("p.csv", data)})
    job = ImportJob.objects.get(user=importer)
    client.post(
        f"/import/{KEY}/{job.pk}/map/",
        {"column_0": "name", "column_1": "main_phone", "match_key": "name"},
    )
    text = pages.text(client.get(f"/import/{KEY}/{job.pk}/"))
    assert "Main phone: Enter a mobile number" in text
    response = client.get(f"/import/{KEY}/{job.pk}/errors/")
    report = report_rows(response.content)
    assert [r[:3] for r in report[1:]] == [[2, "Error", "main phone"]]


def test_without_add_or_change_permission_the_import_is_403(make_user, client_for):
    """Y5: a user who may only view customers gets 403 and no Import button."""
    viewer = make_user(*VIEW, "core.export_data")
    client = client_for(viewer)
    assert f'href="/import/{KEY}/"' not in client.get("/customers/").content.decode()
    assert client.get(f"/import/{KEY}/").status_code == 403
    data = csv_bytes([["客户名称"], ["甲"]])
    assert (
        client.post(f"/import/{KEY}/", {"file": upload("a.csv", data)}).status_code
        == 403
    )
    assert client.get(f"/import/{KEY}/template/").status_code == 403
    with pytest.raises(Forbidden):
        imports.import_upload(actor=viewer, key=KEY, upload=upload("a.csv", data))
    assert not ImportJob.objects.exists()
