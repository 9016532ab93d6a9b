"""D6 portal: stock list, count form (same day replaces), upload (dry run, row errors,
all or nothing), isolation between partners."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from crm.channels.models import StockCount
from crm.channels.services.inventory import stock_count_submit
from crm.channels.tests.inventory_fixtures import count
from crm.core.errors import Invalid, NotFound
from crm.core.models import ImportJob


def csv_file(text: str, name="counts.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def org(channel_org):
    return channel_org


def test_stock_list_is_own_and_filters(org, client_for):
    p1, p2 = org.catalogue.p1, org.catalogue.p2
    count(org.partner_a, p1, "2026-03-01", 10)
    count(org.partner_a, p2, "2026-03-05", 4)
    count(org.partner_c, p1, "2026-03-02", 99)
    client = client_for(org.pa_user)
    response = client.get("/portal/stock/")
    assert response.status_code == 200
    shown = [
        (c.counted_on.isoformat(), c.product.code) for c in response.context["page"]
    ]
    assert shown == [("2026-03-05", "EX-350"), ("2026-03-01", "EX-200")]
    response = client.get("/portal/stock/", {"product": p1.pk})
    assert [c.quantity for c in response.context["page"]] == [10]
    response = client.get("/portal/stock/", {"date_from": "2026-03-02"})
    assert [c.product.code for c in response.context["page"]] == ["EX-350"]
    # another partner's product as a filter: not a choice (partner_a never counted p3)
    response = client.get("/portal/stock/", {"product": org.catalogue.p3.pk})
    assert response.status_code == 400


def test_count_form_saves_and_same_day_replaces(org, client_for):
    p1, p2 = org.catalogue.p1, org.catalogue.p2
    client = client_for(org.pa_user)
    day = timezone.localdate().isoformat()
    response = client.get("/portal/stock/new/")
    assert response.status_code == 200
    response = client.post(
        "/portal/stock/new/", {"counted_on": day, f"q_{p1.pk}": "12", f"q_{p2.pk}": ""}
    )
    assert response.status_code == 302
    assert list(StockCount.objects.values_list("product__code", "quantity")) == [
        ("EX-200", Decimal(12))
    ]
    # the same day again: the count is replaced, not added
    response = client.get("/portal/stock/new/", {"counted_on": day})
    assert response.context["already"] is True
    response = client.post(
        "/portal/stock/new/", {"counted_on": day, f"q_{p1.pk}": "7", f"q_{p2.pk}": "3"}
    )
    assert response.status_code == 302
    assert dict(StockCount.objects.values_list("product__code", "quantity")) == {
        "EX-200": Decimal(7),
        "EX-350": Decimal(3),
    }
    assert StockCount.objects.get(product=p1).submitted_by == org.pa_user


def test_count_form_refuses_future_and_negative(english, org, client_for):
    p1 = org.catalogue.p1
    client = client_for(org.pa_user)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    with translation.override("en"):
        response = client.post(
            "/portal/stock/new/", {"counted_on": tomorrow, f"q_{p1.pk}": "1"}
        )
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    response = client.post(
        "/portal/stock/new/",
        {"counted_on": timezone.localdate().isoformat(), f"q_{p1.pk}": "-1"},
    )
    assert response.status_code == 400
    response = client.post(
        "/portal/stock/new/", {"counted_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 400
    assert not StockCount.objects.exists()


def test_service_rules(org):
    p1 = org.catalogue.p1
    day = datetime.date(2026, 3, 1)
    with pytest.raises(Invalid) as exc:
        stock_count_submit(
            actor=org.pa_user,
            partner=org.partner_a,
            counted_on=day,
            lines=[{"product": p1, "quantity": 1}, {"product": p1, "quantity": 2}],
        )
    assert "lines.1.product" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        stock_count_submit(
            actor=org.pa_user,
            partner=org.partner_a,
            counted_on=day,
            lines=[{"product": p1, "quantity": "1.00001"}],
        )
    assert "lines.0.quantity" in exc.value.fields
    # a partner user reports for its own partner only
    with pytest.raises(NotFound):
        stock_count_submit(
            actor=org.pa_user,
            partner=org.partner_c,
            counted_on=day,
            lines=[{"product": p1, "quantity": 1}],
        )
    # HQ: within the channel scope only
    with pytest.raises(NotFound):
        stock_count_submit(
            actor=org.mgr_a,
            partner=org.partner_c,
            counted_on=day,
            lines=[{"product": p1, "quantity": 1}],
        )
    (saved,) = stock_count_submit(
        actor=org.mgr_a,
        partner=org.partner_a2,
        counted_on=day,
        lines=[{"product": p1, "quantity": "2.5"}],
    )
    assert saved.quantity == Decimal("2.5")


def test_upload_dry_run_errors_then_nothing_stored(english, org, client_for):
    client = client_for(org.pa_user)
    text = (
        "盘点日期,产品编码,数量\n"
        "2026-03-01,EX-200,5\n"
        "2026-03-01,NOPE,1\n"
        "2026-03-01,EX-350,-2\n"
        "2026-03-01,EX-200,6\n"
    )
    with translation.override("en"):
        response = client.post("/portal/stock/upload/", {"file": csv_file(text)})
        assert response.status_code == 302
        job = ImportJob.objects.get()
        response = client.get(response.url)
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.summary["problems"] == 3
    assert response.context["can_commit"] is False
    rows = {r["row"]: r for r in response.context["problems"]}
    assert set(rows) == {3, 4, 5}
    assert "already counted on this date" in rows[5]["errors"][0][1]
    # committing anyway is refused: nothing stored
    response = client.post(f"/portal/stock/upload/{job.pk}/commit/")
    assert response.status_code == 302
    assert not StockCount.objects.exists()
    assert client.get(f"/portal/stock/upload/{job.pk}/errors/").status_code == 200


def test_upload_commit_replaces_same_day(org, client_for):
    count(org.partner_a, org.catalogue.p1, "2026-03-01", 50)
    client = client_for(org.pa_admin)
    text = (
        "count date,product code,quantity\n2026-03-01,EX-200,5\n2026-03-02,EX-350,1.5\n"
    )
    response = client.post("/portal/stock/upload/", {"file": csv_file(text)})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.CHECKED
    assert job.summary["problems"] == 0
    assert not StockCount.objects.filter(counted_on="2026-03-02").exists()  # dry run
    response = client.post(f"/portal/stock/upload/{job.pk}/commit/")
    assert response.status_code == 302
    assert dict(
        StockCount.objects.filter(partner=org.partner_a).values_list(
            "product__code", "quantity"
        )
    ) == {"EX-200": Decimal(5), "EX-350": Decimal("1.5")}
    assert client.get("/portal/stock/upload/template/").status_code == 200


def test_portal_isolation(org, client_for):
    mine = client_for(org.pa_user)
    theirs = client_for(org.pc_admin)
    theirs.post(
        "/portal/stock/upload/",
        {"file": csv_file("count date,product code,quantity\n2026-03-01,EX-200,1\n")},
    )
    job = ImportJob.objects.get()
    for url in (
        f"/portal/stock/upload/{job.pk}/",
        f"/portal/stock/upload/{job.pk}/errors/",
    ):
        assert mine.get(url).status_code == 404
    assert mine.post(f"/portal/stock/upload/{job.pk}/commit/").status_code == 404
    count(org.partner_c, org.catalogue.p1, "2026-03-01", 99)
    assert list(mine.get("/portal/stock/").context["page"]) == []
    # HQ users never see portal pages
    hq = client_for(org.mgr_a)
    for url in ("/portal/stock/", "/portal/stock/new/", "/portal/stock/upload/"):
        assert hq.get(url).status_code == 404
    # and partner users never reach the HQ pages
    for url in (
        "/channels/inventory/",
        "/channels/inventory/reconciliation/",
        "/channels/inventory/bounds/",
    ):
        assert mine.get(url).status_code == 404


def test_replacing_a_count_is_audited(org):
    from django.contrib.contenttypes.models import ContentType

    from crm.core.models import AuditEvent

    p1 = org.catalogue.p1
    day = datetime.date(2026, 3, 1)
    stock_count_submit(
        actor=org.pa_user,
        partner=org.partner_a,
        counted_on=day,
        lines=[{"product": p1, "quantity": 5}],
    )
    (count_,) = stock_count_submit(
        actor=org.pa_admin,
        partner=org.partner_a,
        counted_on=day,
        lines=[{"product": p1, "quantity": 8}],
    )
    assert StockCount.objects.count() == 1
    events = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(StockCount),
        object_id=str(count_.pk),
    ).order_by("pk")
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].changes["quantity"] == ["5.0000", "8.0000"]
    assert events[1].actor == org.pa_admin
