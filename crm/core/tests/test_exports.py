"""Large exports run as background jobs (issue 2 point 9): a job per export above
CRM_EXPORT_SYNC_LIMIT rows, with the user's data scope, downloadable by its owner only.

In CI (.ci/run) REDIS_URL is set and a real Celery worker runs against the test database:
the test then commits its rows (transaction=True), waits for the worker and checks that the
file was written by another process. Without REDIS_URL the task runs in-process (eager).
"""

import io
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from openpyxl import load_workbook

from crm.core.errors import NotFound
from crm.core.exports import export_run
from crm.core.models import ExportJob
from crm.core.scopes import DataScope
from crm.core.tests import pages
from crm.org.models import User
from crm.org.tests.factories import make_role

pytestmark = pytest.mark.usefixtures("english")

REAL_WORKER = bool(settings.REDIS_URL)
LIMIT = 20


@pytest.fixture
def exporter(org, settings):
    settings.CRM_EXPORT_SYNC_LIMIT = LIMIT
    role = make_role(
        "exporter",
        "products.view_product",
        "core.export_data",
        products=DataScope.DEPARTMENT,
    )
    org.manager.groups.set([role])
    return User.objects.get(pk=org.manager.pk)


@pytest.fixture
def scoped_codes(org, make_product):
    """25 products in the exporter's department (more than the limit), 6 outside it."""
    inside = [make_product(org.rep_a).code for _ in range(25)]
    for _ in range(6):
        make_product(org.rep_c)
    return set(inside)


def wait_for(job: ExportJob, timeout: float = 60) -> ExportJob:
    deadline = time.monotonic() + timeout
    while True:
        job.refresh_from_db()
        if job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
            return job
        assert time.monotonic() < deadline, f"export job still {job.status}"
        time.sleep(0.2)


def codes_in_xlsx(data: bytes) -> set[str]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    column = rows[0].index("product code")
    return {row[column] for row in rows[1:]}


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_large_export_runs_as_a_job(
    org, exporter, scoped_codes, client_for, django_capture_on_commit_callbacks
):
    client = client_for(exporter)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/export/products.product/", {"format": "xlsx"})

    job = ExportJob.objects.get(user=exporter)
    assert response.status_code == 302
    assert response["Location"] == f"/exports/{job.pk}/"
    try:
        job = wait_for(job)
        assert job.status == ExportJob.Status.DONE, job.error
        assert job.total == len(scoped_codes)
        assert job.done == job.total
        host, pid = job.worker.rsplit(":", 1)
        assert host
        if REAL_WORKER:
            assert int(pid) != os.getpid(), "the export ran in the test process"
        else:
            assert int(pid) == os.getpid()

        page = client.get(f"/exports/{job.pk}/")
        assert page.status_code == 200
        assert f"/exports/{job.pk}/download/" in page.content.decode()
        assert "Done" in pages.text(page)

        download = client.get(f"/exports/{job.pk}/download/")
        assert download.status_code == 200
        data = b"".join(download.streaming_content)
        assert codes_in_xlsx(data) == scoped_codes

        # nobody else sees the job or its file
        other = client_for(org.admin)
        assert other.get(f"/exports/{job.pk}/").status_code == 404
        assert other.get(f"/exports/{job.pk}/download/").status_code == 404
        assert f"/exports/{job.pk}/" not in other.get("/exports/").content.decode()
        assert f"/exports/{job.pk}/" in client.get("/exports/").content.decode()
    finally:
        job.refresh_from_db()
        if job.file:
            job.file.delete(save=False)


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_large_csv_export_keeps_the_lists_filters(
    org, exporter, make_product, client_for, django_capture_on_commit_callbacks
):
    wanted = {make_product(org.rep_a, name="控制器").code for _ in range(22)}
    for _ in range(5):
        make_product(org.rep_a, name="传感器")
    client = client_for(exporter)

    with django_capture_on_commit_callbacks(execute=True):
        client.get("/export/products.product/", {"format": "csv", "q": "控制器"})

    job = wait_for(ExportJob.objects.get(user=exporter))
    try:
        assert job.status == ExportJob.Status.DONE, job.error
        download = client.get(f"/exports/{job.pk}/download/")
        text = b"".join(download.streaming_content).decode("utf-8-sig")
        lines = text.splitlines()
        assert lines[0].startswith("product code")
        assert {line.split(",")[0] for line in lines[1:]} == wanted
    finally:
        if job.file:
            job.file.delete(save=False)


def test_export_at_the_limit_answers_at_once(org, exporter, make_product, client_for):
    for _ in range(LIMIT):
        make_product(org.rep_a)
    response = client_for(exporter).get("/export/products.product/", {"format": "csv"})
    assert response.status_code == 200
    assert not ExportJob.objects.exists()


def test_unfinished_job_cannot_be_downloaded(org, exporter, client_for):
    job = ExportJob.objects.create(
        user=exporter, list_key="products.product", file_format="xlsx"
    )
    client = client_for(exporter)
    assert client.get(f"/exports/{job.pk}/").status_code == 200
    assert client.get(f"/exports/{job.pk}/download/").status_code == 404


def test_a_job_that_cannot_run_is_marked_failed(org, exporter):
    """A job whose list is gone fails visibly instead of staying 'pending' for ever."""
    job = ExportJob.objects.create(
        user=exporter, list_key="no.such.list", file_format="xlsx"
    )
    with pytest.raises(NotFound):
        export_run(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert job.error == "No such list."
    assert not job.file


def test_every_list_is_known_without_urls():
    """A Celery worker loads no URLconf; the lists must be registered anyway."""
    code = (
        "import django; django.setup(); "
        "from crm.core.lists import REGISTRY; print(sorted(REGISTRY))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "products.product" in out
    assert "org.employee" in out
