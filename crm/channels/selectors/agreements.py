"""D2 reads: cooperation agreements, always inside the viewer's channel scope (Y5), and
the two helpers the sell-in and scoring areas price and measure by."""

import datetime
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.channels.models import Agreement, AgreementTerm, Partner
from crm.channels.selectors.partners_scope import of_visible_partners, partners_visible
from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.core.money import round_money
from crm.core.scopes import authorize
from crm.products.models import Product
from crm.products.selectors import price_for

HUNDRED = Decimal(100)
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# An agreement renewed before its end stays in force until then (its renewal starts the
# day after); so "in force" is active or renewed, within the validity.
IN_FORCE = (Agreement.Status.ACTIVE, Agreement.Status.RENEWED)


def agreement_in_force(partner: Partner, on: datetime.date) -> Agreement | None:
    """The partner's agreement in force on `on`: active (or renewed early, and so still
    running until its end) with a validity covering the day; else None. At most one:
    activation refuses agreements overlapping in time."""
    return (
        Agreement.objects.filter(
            partner=partner,
            status__in=IN_FORCE,
            starts_on__lte=on,
            ends_on__gte=on,
        )
        .select_related("price_list")
        .order_by("-starts_on", "-pk")
        .first()
    )


def partner_price(agreement: Agreement, product: Product) -> Decimal:
    """The partner's unit price for one piece: the agreement price list's price (else the
    product's list price) less the agreement discount, rounded like an order amount.

        price = round(base × (100 − discount%) / 100)"""
    base = price_for(product=product, price_list=agreement.price_list)
    net = Decimal(base) * (HUNDRED - Decimal(agreement.discount_percent)) / HUNDRED
    return round_money(net, "order")


# HQ list and detail (channel scope: through the visible partners)


class PartnerScopedForm(forms.Form):
    """The filter form of the list: ListSpec sets `form.user`, and the partner choices
    shrink to the partners the user may see (a filter must not list every name)."""

    @property
    def user(self):
        return self._user

    @user.setter
    def user(self, user):
        self._user = user
        if "partner" in self.fields:
            self.fields["partner"].queryset = partners_visible(user).order_by("number")


class AgreementFilter(django_filters.FilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=Agreement.Status.choices
    )
    expiring_within = django_filters.NumberFilter(
        label=_("expiring within (days)"),
        field_name="ends_on",
        method="filter_expiring",
        min_value=0,
        max_value=3650,
    )
    ends_from = django_filters.DateFilter(
        label=_("ends from"), field_name="ends_on", lookup_expr="gte", widget=DATE
    )
    ends_to = django_filters.DateFilter(
        label=_("ends to"), field_name="ends_on", lookup_expr="lte", widget=DATE
    )

    class Meta:
        model = Agreement
        fields = ["partner", "status"]
        form = PartnerScopedForm

    def filter_expiring(self, qs, name, value):
        """Agreements in force that end between today and N days from today."""
        if value is None:
            return qs
        today = timezone.localdate()
        return qs.filter(
            status=Agreement.Status.ACTIVE,
            ends_on__gte=today,
            ends_on__lte=today + datetime.timedelta(days=int(value)),
        )


def agreement_queryset(*, actor) -> QuerySet[Agreement]:
    """The agreements of the partners the HQ user may see."""
    return of_visible_partners(Agreement.objects.all(), actor)


@register
class AgreementList(ListSpec):
    key = "channels.agreement"
    model = Agreement
    title = _("Cooperation agreements")
    columns = [
        Column("number", _("agreement number"), sort="number", link=True),
        Column("title", _("title"), sort="title", link=True),
        Column("partner.name", _("partner"), sort="partner__name", field="partner"),
        Column("status", _("status"), sort="status", choices=True),
        Column("starts_on", _("valid from"), sort="starts_on"),
        Column("ends_on", _("valid until"), sort="ends_on"),
        Column("discount_percent", _("discount %"), sort="discount_percent"),
        Column("annual_target", _("annual sales target"), sort="annual_target"),
        Column(
            "partner.owner.name",
            _("channel manager"),
            sort="partner__owner__name",
            field="partner",
        ),
    ]
    search_fields = ("number", "title", "partner__name", "partner__number")
    filterset_class = AgreementFilter
    default_sort = "-starts_on"
    select_related = ("partner", "partner__owner")
    detail_url_name = "channels:agreement-detail"

    def base_queryset(self, user):
        return agreement_queryset(actor=user)


def agreement_get(*, actor, pk) -> Agreement:
    """One agreement of a partner the user may see (view permission needed); else 404."""
    authorize(actor, "channels.view_agreement")
    if not is_id(pk):
        raise NotFound(_("Agreement not found."))
    try:
        return (
            agreement_queryset(actor=actor)
            .select_related(
                "partner", "partner__owner", "price_list", "previous", "owner"
            )
            .get(pk=int(pk))
        )
    except Agreement.DoesNotExist:
        raise NotFound(_("Agreement not found.")) from None


def agreement_renewal(agreement: Agreement) -> Agreement | None:
    """The agreement that renews this one, if any."""
    return Agreement.objects.filter(previous=agreement).first()


def agreement_rules(agreement: Agreement) -> dict[str, list[AgreementTerm]]:
    """Rebate tiers and penalties, each by ascending threshold."""
    rules = {AgreementTerm.Kind.REBATE: [], AgreementTerm.Kind.PENALTY: []}
    for rule in agreement.rules.order_by("kind", "threshold_percent", "pk"):
        rules[rule.kind].append(rule)
    return {"rebates": rules["rebate"], "penalties": rules["penalty"]}


def agreement_rule_get(*, agreement: Agreement, pk) -> AgreementTerm:
    if not is_id(pk):
        raise NotFound(_("Rule not found."))
    try:
        return agreement.rules.get(pk=int(pk))
    except AgreementTerm.DoesNotExist:
        raise NotFound(_("Rule not found.")) from None


# Portal: the partner's own agreements only


def portal_agreements(partner: Partner) -> QuerySet[Agreement]:
    """A partner's own agreements (drafts are HQ's work in progress: not shown)."""
    return (
        Agreement.objects.filter(partner=partner)
        .exclude(status=Agreement.Status.DRAFT)
        .select_related("price_list")
        .order_by("-starts_on", "-pk")
    )


def portal_agreement_get(partner: Partner, pk) -> Agreement:
    if not is_id(pk):
        raise NotFound(_("Agreement not found."))
    try:
        return portal_agreements(partner).get(pk=int(pk))
    except Agreement.DoesNotExist:
        raise NotFound(_("Agreement not found.")) from None
