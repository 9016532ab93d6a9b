"""D5 sell-through service: line rules with errors by line and field, all-or-nothing,
totals, idempotent resubmission, 409 on changed content, end-customer linking."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from crm.channels.models import SellThroughLine, SellThroughReport
from crm.channels.selectors.sellthrough import sell_through_totals
from crm.channels.services.sellthrough import fingerprint
from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.customers.models import Customer
from crm.customers.services import customer_create

pytest_plugins = ["crm.channels.tests.sellthrough_fixtures"]


def test_a_report_stores_its_lines_partner_and_totals(st):
    report = st.submit(
        "HT-2026-001",
        [
            st.line(quantity="2", amount="180000.00", sold_on=st.yesterday),
            st.line(
                product=st.catalogue.p3.pk,
                quantity="3.5",
                amount="0",
                sold_on=st.today,
                end_customer_name="西湖区市政工程公司",
            ),
        ],
    )

    assert report.replayed is False
    assert report.partner == st.partner_a
    assert report.source == SellThroughReport.Source.PORTAL
    assert report.submitted_by == st.pa_user
    assert report.line_count == 2
    assert report.total_quantity == Decimal("5.5")
    assert report.total_amount == Decimal("180000")
    assert (report.period_start, report.period_end) == (st.yesterday, st.today)
    lines = list(report.lines.order_by("pk"))
    assert [x.partner_id for x in lines] == [st.partner_a.pk] * 2
    assert [x.quantity for x in lines] == [Decimal("2"), Decimal("3.5")]
    assert lines[1].product == st.catalogue.p3
    assert AuditEvent.objects.filter(
        object_id=str(report.pk), action=AuditEvent.Action.CREATE
    ).exists()


def test_every_line_error_names_its_line_and_field(st):
    st.catalogue.p2.status = "inactive"
    st.catalogue.p2.save()
    lines = [
        st.line(),
        st.line(sold_on=st.today + datetime.timedelta(days=1)),
        st.line(product=st.catalogue.p2.pk),
        st.line(quantity="0"),
        st.line(amount="-1"),
        st.line(region=999999),
        st.line(product=987654, end_customer_name=" "),
    ]
    with translation.override("en"), pytest.raises(Invalid) as caught:
        st.submit("BAD-1", lines)

    fields = caught.value.fields
    assert sorted(fields) == [
        "lines.1.sold_on",
        "lines.2.product",
        "lines.3.quantity",
        "lines.4.amount",
        "lines.5.region",
        "lines.6.end_customer_name",
        "lines.6.product",
    ]
    assert fields["lines.1.sold_on"] == [
        "Line 2: a sale cannot be dated in the future."
    ]
    assert fields["lines.2.product"] == ["Line 3: product EX-350 is no longer active."]
    assert fields["lines.3.quantity"] == [
        "Line 4: the quantity must be greater than 0."
    ]
    assert fields["lines.4.amount"] == ["Line 5: the amount cannot be negative."]
    assert fields["lines.5.region"] == ["Line 6: no such region."]
    assert fields["lines.6.product"] == ["Line 7: no such product."]


def test_one_bad_line_stores_nothing(st):
    customers = Customer.objects.count()
    with pytest.raises(Invalid):
        st.submit("HALF", [st.line(), st.line(quantity="-2")])

    assert SellThroughReport.objects.count() == 0
    assert SellThroughLine.objects.count() == 0
    assert Customer.objects.count() == customers


def test_a_report_needs_a_reference_and_lines(st):
    with pytest.raises(Invalid) as caught:
        st.submit("  ", [st.line()])
    assert "reference" in caught.value.fields
    with pytest.raises(Invalid) as caught:
        st.submit("EMPTY", [])
    assert "lines" in caught.value.fields


def test_the_same_report_again_is_returned_and_not_counted_twice(st):
    first = st.submit("R-7", [st.line(), st.line(quantity="1", amount="90000")])

    again = st.submit("R-7", [st.line(), st.line(quantity="1.0", amount="90000.00")])

    assert again.pk == first.pk
    assert again.replayed is True
    assert SellThroughReport.objects.count() == 1
    assert SellThroughLine.objects.count() == 2
    totals = sell_through_totals([st.partner_a.pk], by=("partner",))
    assert totals == [
        {
            "partner": st.partner_a.pk,
            "quantity": Decimal("3"),
            "amount": Decimal("270000"),
        }
    ]


def test_the_same_reference_with_other_lines_is_a_conflict_naming_it(st):
    st.submit("R-8", [st.line()])

    with translation.override("en"), pytest.raises(Conflict) as caught:
        st.submit("R-8", [st.line(quantity="3")])

    assert "R-8" in caught.value.message
    assert "reference" in caught.value.fields
    assert SellThroughLine.objects.get().quantity == Decimal("2")


def test_the_same_reference_of_two_partners_is_two_reports(st):
    st.submit("2026-01")
    st.submit("2026-01", actor=st.pc_admin, partner=st.partner_c)

    assert SellThroughReport.objects.count() == 2


def test_lines_in_another_order_are_other_content(st):
    a, b = st.line(), st.line(quantity="1")
    st.submit("ORDER", [a, b])
    with pytest.raises(Conflict):
        st.submit("ORDER", [b, a])


def test_the_fingerprint_ignores_how_numbers_are_written(st):
    from crm.channels.services.sellthrough import clean_lines

    one = clean_lines([st.line(quantity="2", amount="100")])
    two = clean_lines([st.line(quantity="2.000", amount="100.00")])
    assert fingerprint(one) == fingerprint(two)


def test_only_the_partners_own_users_or_hq_in_scope_may_submit(st):
    with pytest.raises(NotFound):
        st.submit("X", actor=st.pc_admin, partner=st.partner_a)
    with pytest.raises(NotFound):
        st.submit("X", actor=st.mgr_c, partner=st.partner_a)
    with pytest.raises(Forbidden):
        st.submit("X", actor=st.rep_a, partner=st.partner_a)

    report = st.submit("HQ-1", actor=st.mgr_a, source=SellThroughReport.Source.HQ)
    assert report.submitted_by == st.mgr_a


# End customers


def test_a_new_end_customer_is_created_once_as_an_end_user_of_the_manager(st):
    report = st.submit(
        "EC-1",
        [
            st.line(end_customer_name="杭州西湖建设工程有限公司"),
            st.line(end_customer_name="杭州西湖建设工程有限公司", quantity="1"),
        ],
    )

    customers = Customer.objects.filter(name="杭州西湖建设工程有限公司")
    assert customers.count() == 1
    customer = customers.get()
    assert customer.type == Customer.Type.END_USER
    assert customer.owner == st.mgr_a
    assert customer.department == st.mgr_a.department
    assert customer.region == st.xihu
    assert set(report.lines.values_list("end_customer", flat=True)) == {customer.pk}


def test_two_partners_naming_one_customer_link_the_same_record(st):
    st.submit("A-1", [st.line(end_customer_name="杭州西湖建设工程有限公司")])
    st.submit(
        "C-1",
        [
            st.line(
                end_customer_name="西湖建设工程 (杭州) 有限公司", region=st.tianhe.pk
            )
        ],
        actor=st.pc_admin,
        partner=st.partner_c,
    )

    assert Customer.objects.filter(name_key="西湖建设工程").count() == 1
    linked = set(SellThroughLine.objects.values_list("end_customer", flat=True))
    assert len(linked) == 1


def test_an_existing_customer_with_the_same_name_key_is_reused(st):
    existing = customer_create(
        actor=st.admin, data={"name": "北京华为技术有限公司", "owner": st.admin}
    )
    before = Customer.objects.count()

    report = st.submit("HW", [st.line(end_customer_name="华为技术有限公司")])

    assert Customer.objects.count() == before
    assert report.lines.get().end_customer == existing
    assert report.lines.get().end_customer_name == "华为技术有限公司"


def test_a_replay_creates_no_customer(st):
    st.submit("R-9", [st.line(end_customer_name="绍兴新客户有限公司")])
    count = Customer.objects.count()
    st.submit("R-9", [st.line(end_customer_name="绍兴新客户有限公司")])
    assert Customer.objects.count() == count


# Totals for other areas


def test_sell_through_totals_group_in_sql_by_partner_and_product(st):
    day = st.today - datetime.timedelta(days=10)
    st.submit(
        "T-1",
        [
            st.line(quantity="2", amount="100", sold_on=day),
            st.line(quantity="3", amount="150", sold_on=st.yesterday),
            st.line(product=st.catalogue.p3.pk, quantity="10", amount="60"),
        ],
    )
    st.submit(
        "T-2",
        [st.line(quantity="1", amount="40", region=st.tianhe.pk)],
        actor=st.pc_admin,
        partner=st.partner_c,
    )
    p1, p3 = st.catalogue.p1.pk, st.catalogue.p3.pk
    a, c = st.partner_a.pk, st.partner_c.pk

    rows = sell_through_totals([a, c])
    assert {
        (r["partner"], r["product"]): (r["quantity"], r["amount"]) for r in rows
    } == {
        (a, p1): (Decimal("5"), Decimal("250")),
        (a, p3): (Decimal("10"), Decimal("60")),
        (c, p1): (Decimal("1"), Decimal("40")),
    }
    since = st.today - datetime.timedelta(days=5)
    rows = sell_through_totals([a], since=since, by=("product",))
    assert {r["product"]: r["quantity"] for r in rows} == {
        p1: Decimal("3"),
        p3: Decimal("10"),
    }
    rows = sell_through_totals([a], until=day, by=("partner",))
    assert rows == [{"partner": a, "quantity": Decimal("2"), "amount": Decimal("100")}]
    with pytest.raises(ValueError, match="colour"):
        sell_through_totals([a], by=("colour",))


# Concurrency (PostgreSQL)

postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real concurrent transactions"
)


def _concurrently(calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@postgresql
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_of_one_report_store_it_once(st):
    lines = [st.line(end_customer_name="并发测试客户有限公司")]

    results = _concurrently([lambda: st.submit("RACE", lines)] * 2)

    assert all(isinstance(r, SellThroughReport) for r in results), results
    assert results[0].pk == results[1].pk
    assert sorted(r.replayed for r in results) == [False, True]
    assert SellThroughReport.objects.count() == 1
    assert SellThroughLine.objects.count() == 1
    assert Customer.objects.filter(name="并发测试客户有限公司").count() == 1


@postgresql
@pytest.mark.django_db(transaction=True)
def test_one_reference_with_two_contents_at_once_stores_one(st):
    results = _concurrently(
        [
            lambda: st.submit("RACE2", [st.line(quantity="1")]),
            lambda: st.submit("RACE2", [st.line(quantity="2")]),
        ]
    )

    assert sorted(type(r).__name__ for r in results) == [
        "Conflict",
        "SellThroughReport",
    ]
    assert SellThroughLine.objects.count() == 1


@postgresql
@pytest.mark.django_db(transaction=True)
def test_two_partners_reporting_one_new_customer_at_once_create_it_once(st):
    name = "并发终端客户有限公司"
    results = _concurrently(
        [
            lambda: st.submit("P-A", [st.line(end_customer_name=name)]),
            lambda: st.submit(
                "P-C",
                [st.line(end_customer_name=name)],
                actor=st.pc_admin,
                partner=st.partner_c,
            ),
        ]
    )

    assert all(isinstance(r, SellThroughReport) for r in results), results
    assert Customer.objects.filter(name=name).count() == 1
