"""S1/C4 lead import through core's machinery: headers recognised, the dry run stores
nothing and shows each row's fate, a bad row is an error naming its field, the commit is
all or nothing; source "import" unless given; owner by name, else by rule."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.core import imports
from crm.core.errors import Invalid
from crm.sales.models import Lead
from crm.sales.tests.leads_fixtures import *  # noqa: F403

pytestmark = pytest.mark.usefixtures("english")
KEY = "sales.lead"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def csv_file(rows) -> SimpleUploadedFile:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return SimpleUploadedFile("leads.csv", out.getvalue().encode("utf-8"))


def dry_run(actor, rows):
    job = imports.import_upload(actor=actor, key=KEY, upload=csv_file(rows))
    job = imports.import_configure(
        actor=actor, job=job, mapping=job.mapping, match_key=job.match_key
    )
    job, _background = imports.import_check(actor=actor, job=job)
    return job


def results(job) -> dict[int, tuple[str, str]]:
    return {
        r["row"]: (
            r["fate"],
            " | ".join(f"{f}: {m}" for f, m in r.get("errors", [])),
        )
        for r in imports.job_results(job)
    }


HEADERS = ["姓名", "公司名称", "手机", "邮箱", "线索来源", "负责人"]


def test_the_dry_run_stores_nothing_and_names_each_bad_field(sales_org, lead_manager):
    job = dry_run(
        lead_manager,
        [
            HEADERS,
            ["甲", "甲公司", "13800000001", "a@example.com", "", "rep_a"],
            ["乙", "乙公司", "12345", "", "campaign", ""],
            ["丙", "丙公司", "", "not-mail", "", "无此人"],
            ["", "丁公司", "13800000004", "", "", ""],
            ["戊", "戊公司", "13800000005", "", "飞鸽传书", ""],
        ],
    )
    assert job.mapping == ["name", "company", "mobile", "email", "source", "owner"]
    fates = results(job)
    assert fates[2] == ("new", "")
    assert fates[3][0] == "error"
    assert fates[3][1].startswith("mobile:")
    assert fates[4][0] == "error"
    assert (
        "owner: No active employee has the user name or name “无此人”." in fates[4][1]
    )
    assert fates[5] == ("error", "contact name: Required for a new record.")
    assert fates[6][0] == "error"
    assert fates[6][1].startswith("source: Not one of:")
    assert job.summary["problems"] == 4
    assert not Lead.objects.exists()
    with pytest.raises(Invalid):
        imports.import_commit(actor=lead_manager, job=job)
    assert not Lead.objects.exists()


def test_a_clean_file_is_imported_with_owners_sources_and_rules(
    sales_org, lead_manager, make_rule
):
    make_rule(source="", department=sales_org.south)
    job = dry_run(
        lead_manager,
        [
            HEADERS,
            ["甲", "甲公司", "13800000001", "", "", "rep_b"],
            ["乙", "乙公司", "13800000002", "", "合作伙伴", ""],
            ["丙", "", "", "c@example.com", "", ""],
        ],
    )
    assert job.summary["problems"] == 0
    assert not Lead.objects.exists()
    job, _background = imports.import_commit(actor=lead_manager, job=job)
    leads = {lead.name: lead for lead in Lead.objects.select_related("owner")}
    assert set(leads) == {"甲", "乙", "丙"}
    assert (leads["甲"].owner, leads["甲"].source) == (sales_org.rep_b, "import")
    assert (leads["乙"].owner, leads["乙"].source) == (sales_org.rep_c, "partner")
    assert leads["丙"].owner == sales_org.rep_c  # by rule, no owner column value
    assert len({lead.number for lead in leads.values()}) == 3


def test_without_a_rule_the_importer_owns_and_others_need_the_assign_right(
    sales_org, make_lead
):
    rep = sales_org.rep_a
    job = dry_run(
        rep,
        [
            ["姓名", "手机", "负责人"],
            ["甲", "13800000001", ""],
            ["乙", "13800000002", "rep_b"],
        ],
    )
    fates = results(job)
    assert fates[2] == ("new", "")
    assert fates[3][0] == "error"
    assert "permission" in fates[3][1]
    job = dry_run(rep, [["姓名", "手机"], ["甲", "13800000001"]])
    imports.import_commit(actor=rep, job=job)
    assert Lead.objects.get().owner == rep
