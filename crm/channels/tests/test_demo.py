"""Demo channel network (issue 5 point 11): ~60 partners across the provinces with
agreements, 12 months of sell-in, sell-through and stock counts that reconcile except a
few deliberately wrong counts, targets, closed score periods, promotions, deal
registrations with a conflict, and a demo dealer login that sees only its own partner.

The organisation, catalogue and customers take a while to load, so the module loads
them and the channel demo (twice) once, inside a transaction rolled back at the end."""

import datetime

import pytest
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncMonth
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.channels import demo
from crm.channels.models import (
    Agreement,
    AgreementTerm,
    DealRegistration,
    FundRequest,
    Partner,
    PartnerPlan,
    PartnerScore,
    PartnerTarget,
    PartnerUser,
    Promotion,
    PurchaseOrder,
    ReceiptLine,
    ScorePeriod,
    SellThroughLine,
    StockCount,
    Territory,
)
from crm.channels.selectors.dashboard import channel_dashboard, dashboard_filters
from crm.channels.selectors.inventory import reconciliation_queryset
from crm.customers import demo as customers_demo
from crm.customers.models import Customer
from crm.org import demo as org_demo
from crm.org.models import User
from crm.products import demo as products_demo

pytestmark = pytest.mark.django_db

COUNTED = (
    Partner,
    PartnerUser,
    Agreement,
    PurchaseOrder,
    ReceiptLine,
    SellThroughLine,
    StockCount,
    PartnerTarget,
    PartnerScore,
    Promotion,
    DealRegistration,
)


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        org_demo.load()
        products_demo.load()
        customers_demo.load()
        customers = Customer.objects.count()
        summary = demo.load()
        first = counts()
        demo.load()
        yield {
            "first": first,
            "second": counts(),
            "summary": summary,
            "customers_before": customers,
            "customers_after": Customer.objects.count(),
        }
        transaction.set_rollback(True)


def test_a_second_load_adds_nothing_and_no_customer_is_created(loaded):
    assert loaded["second"] == loaded["first"]
    assert loaded["customers_after"] == loaded["customers_before"]
    assert "partners" in loaded["summary"]
    assert 55 <= loaded["first"]["Partner"] <= 65


def test_partners_across_provinces_with_tiers_parents_and_managers(loaded):
    partners = Partner.objects.select_related("region", "tier")
    provinces = {p.region.path[1:7] for p in partners}
    assert len(provinces) >= 20
    assert set(partners.values_list("kind", flat=True)) == set(Partner.Kind.values)
    assert partners.filter(parent__isnull=False).count() >= 3
    for child in partners.filter(parent__isnull=False):
        assert child.path.startswith(child.parent.path)
    assert partners.values("tier").distinct().count() >= 3
    managers = set(partners.values_list("owner__username", flat=True))
    assert managers == {"channel", "emp17", "emp18"}
    assert Partner.objects.filter(status=Partner.Status.SUSPENDED).exists()
    assert (
        PartnerUser.objects.values("partner").distinct().count()
        == Partner.objects.count()
    )


def test_exclusive_territories_do_not_overlap(loaded):
    exclusive = list(
        Territory.objects.filter(exclusive=True).select_related("region", "partner")
    )
    assert len(exclusive) >= 30
    for a in exclusive:
        for b in exclusive:
            if a.partner_id != b.partner_id:
                assert not a.region.path.startswith(b.region.path), (a, b)


def test_agreements_in_force_with_rebates_and_penalties_some_expiring(loaded):
    today = timezone.localdate()
    in_force = Agreement.objects.filter(
        status=Agreement.Status.ACTIVE, starts_on__lte=today, ends_on__gte=today
    )
    trading = Partner.objects.exclude(status=Partner.Status.PROSPECT)
    assert in_force.values("partner").distinct().count() == trading.count()
    soon = in_force.filter(ends_on__lte=today + datetime.timedelta(days=30))
    assert 3 <= soon.count() <= 10
    assert Agreement.objects.filter(previous__isnull=False).count() >= 30
    for agreement in in_force[:10]:
        kinds = set(agreement.rules.values_list("kind", flat=True))
        assert kinds == {AgreementTerm.Kind.REBATE, AgreementTerm.Kind.PENALTY}


def test_twelve_months_of_sell_in_and_sell_through(loaded):
    today = timezone.localdate()
    months_in = ReceiptLine.objects.annotate(m=TruncMonth("received_on")).values("m")
    months_out = SellThroughLine.objects.annotate(m=TruncMonth("sold_on")).values("m")
    assert months_in.distinct().count() >= 12
    assert months_out.distinct().count() >= 12
    assert ReceiptLine.objects.aggregate(last=Max("received_on"))["last"] < today
    assert SellThroughLine.objects.aggregate(last=Max("sold_on"))["last"] < today
    linked = SellThroughLine.objects.filter(end_customer__isnull=False)
    assert 50 <= linked.values("end_customer").distinct().count() <= 500
    assert SellThroughLine.objects.filter(end_customer__isnull=True).exists()
    # Received never exceeds ordered; every order line's amount is quantity × price.
    for line in ReceiptLine.objects.select_related("order_line")[:200]:
        assert line.quantity <= line.order_line.quantity
        assert line.amount == line.order_line.amount
    assert set(PurchaseOrder.objects.values_list("status", flat=True)) >= {
        "received",
        "approved",
        "submitted",
    }


def test_stock_counts_reconcile_except_a_few_wrong_ones(loaded):
    rows = reconciliation_queryset(StockCount.objects.all(), only_mismatches=True)
    assert rows.count() == demo.WRONG_COUNTS
    everything = reconciliation_queryset(StockCount.objects.all())
    assert everything.count() > 150
    low = StockCount.objects.aggregate(low=Min("quantity"))["low"]
    assert low >= 0


def test_targets_scores_promotions_and_deals(loaded):
    per_partner = PartnerTarget.objects.values("partner").annotate(n=Count("pk"))
    assert min(row["n"] for row in per_partner) >= 12
    closed = ScorePeriod.objects.filter(status=ScorePeriod.Status.CLOSED)
    assert closed.count() == 3
    for period in closed:
        assert period.scores.count() >= 55
        assert period.scores.filter(rank=1).exists()
    published = Promotion.objects.filter(status=Promotion.Status.PUBLISHED)
    assert published.count() >= 4
    for plan in PartnerPlan.objects.select_related("promotion"):
        assert plan.promotion.starts_on <= plan.starts_on <= plan.ends_on
        assert plan.ends_on <= plan.promotion.ends_on
    for promo in published:
        approved = FundRequest.objects.filter(plan__promotion=promo).aggregate(
            s=Sum("approved_amount")
        )["s"]
        assert (approved or 0) <= promo.fund_budget
    conflict = DealRegistration.objects.get(status=DealRegistration.Status.CONFLICT)
    (other,) = conflict.conflicts_with.all()
    assert other.customer_id == conflict.customer_id
    assert other.partner_id != conflict.partner_id
    assert DealRegistration.objects.count() >= 10


def test_channel_manager_dashboard_sees_own_partners_only(loaded):
    channel = User.objects.get(username="channel")
    filters = dashboard_filters(actor=channel, params={})
    mine = channel_dashboard(actor=channel, filters=filters)
    own = Partner.objects.filter(owner=channel)
    assert mine["kpis"]["partners_total"] == own.count() < Partner.objects.count()
    director = User.objects.get(username="channel_director")
    everything = channel_dashboard(actor=director, filters=filters)
    assert everything["kpis"]["partners_total"] == Partner.objects.count()
    assert everything["kpis"]["sell_in"] > mine["kpis"]["sell_in"] > 0
    assert everything["scores"]["period"] is not None
    assert everything["reconciliation"]["count"] == demo.WRONG_COUNTS


def test_the_dealer_login_sees_only_its_partner(loaded):
    dealer = User.objects.get(username=demo.DEALER_LOGIN)
    membership = dealer.partner_membership
    assert membership.is_admin
    partner = membership.partner
    assert dealer.check_password(demo.DEMO_PASSWORD)
    client = Client()
    client.force_login(dealer)
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    html = home.content.decode()
    assert partner.name in html
    others = Partner.objects.exclude(pk=partner.pk)
    assert not any(other.name in html for other in others)
    orders = client.get(reverse("portal:purchaseorder-list"))
    assert orders.status_code == 200
    listed = orders.content.decode()
    mine = PurchaseOrder.objects.filter(partner=partner).order_by("-ordered_on")
    assert mine.first().number in listed
    foreign = PurchaseOrder.objects.exclude(partner=partner).first()
    assert foreign.number not in listed
    detail = reverse("portal:purchaseorder-detail", args=[foreign.pk])
    assert client.get(detail).status_code == 404
    assert client.get("/channels/").status_code in (302, 403, 404)
