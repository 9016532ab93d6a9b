"""S6 reads: receipts, receivables (open instalments with money outstanding) and their
aging, always inside the viewer's sales data scope (Y5).

Aging is computed in SQL by conditional aggregation over the visible receivables:
one SUM(outstanding) FILTER (WHERE <bucket>) per bucket, grouped by customer, plus the
same sums without grouping for the totals. Days overdue count from the day after the
due date: an instalment due today is "not yet due", one due yesterday is 1 day overdue.
Buckets: not yet due, 1–30, 31–60, 61–90 and more than 90 days overdue.
"""

import datetime
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.errors import NotFound
from crm.core.lists import REGISTRY, Column, ListSpec, register
from crm.customers.models import Customer
from crm.org.models import Department, User
from crm.sales.models import Instalment, Payment
from crm.sales.models.base import MONEY

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
OUTSTANDING = ExpressionWrapper(
    F("amount") - F("received"), output_field=DecimalField(**MONEY)
)
# (key, label, first day overdue, last day overdue); None is open-ended.
AGING_BUCKETS = (
    ("not_due", _("not yet due"), None, 0),
    ("days_1_30", _("1–30 days"), 1, 30),
    ("days_31_60", _("31–60 days"), 31, 60),
    ("days_61_90", _("61–90 days"), 61, 90),
    ("days_over_90", _("over 90 days"), 91, None),
)
AGING_KEYS = (*(key for key, *_rest in AGING_BUCKETS), "total")


def _id(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ScopedChoicesForm(forms.Form):
    """A filter form whose record choices depend on the viewer: ListSpec sets
    `form.user` before validating, and the choices then shrink to what the user may
    see (a customer filter must not list every customer's name)."""

    scoped_choices: dict = {}

    @property
    def user(self):
        return self._user

    @user.setter
    def user(self, user):
        self._user = user
        for name, choices in self.scoped_choices.items():
            if name in self.fields:
                self.fields[name].queryset = choices(user)


def scoped_choices_form(**choices) -> type[ScopedChoicesForm]:
    return type("ScopedFilterForm", (ScopedChoicesForm,), {"scoped_choices": choices})


def _receivable_customers(user):
    return Customer.objects.filter(
        pk__in=receivable_queryset(actor=user).values("customer")
    )


# Receipts


class PaymentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=Payment.Status.choices
    )
    method = django_filters.ChoiceFilter(
        label=_("method"), choices=Payment.Method.choices
    )
    customer = django_filters.ModelChoiceFilter(
        label=_("customer"), queryset=Customer.objects.all()
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"), queryset=User.objects.filter(is_active=True)
    )
    received_from = django_filters.DateFilter(
        label=_("received from"),
        field_name="received_on",
        lookup_expr="gte",
        widget=DATE,
    )
    received_to = django_filters.DateFilter(
        label=_("received to"),
        field_name="received_on",
        lookup_expr="lte",
        widget=DATE,
    )

    class Meta:
        model = Payment
        fields = ["status", "method", "customer", "owner"]
        form = scoped_choices_form(
            customer=lambda user: Customer.objects.filter(
                pk__in=Payment.objects.visible_to(user).values("customer")
            )
        )


@register
class PaymentList(ListSpec):
    key = "sales.payment"
    model = Payment
    title = _("Payments")
    columns = [
        Column("number", _("receipt number"), sort="number", link=True),
        Column("received_on", _("received on"), sort="received_on"),
        Column("customer.name", _("customer"), sort="customer__name", field="customer"),
        Column("instalment.document_number", _("contract / order"), field="instalment"),
        Column("instalment.sequence", _("instalment no."), field="instalment"),
        Column("amount", _("amount"), sort="amount"),
        Column("method", _("method"), sort="method", choices=True),
        Column("reference", _("bank reference")),
        Column("status", _("status"), sort="status", choices=True),
        Column("owner.name", _("owner"), sort="owner__name", field="owner"),
    ]
    search_fields = (
        "number",
        "reference",
        "customer__name",
        "instalment__contract__number",
        "instalment__order__number",
    )
    filterset_class = PaymentFilter
    default_sort = "-received_on"
    select_related = (
        "customer",
        "owner",
        "instalment__contract",
        "instalment__order",
    )
    detail_url_name = "sales:payment-detail"


def payment_get(*, actor, pk) -> Payment:
    """A receipt in the viewer's scope; any other is not found (404)."""
    try:
        return (
            Payment.objects.visible_to(actor)
            .select_related(
                "customer",
                "owner",
                "department",
                "recorded_by",
                "voided_by",
                "instalment__contract",
                "instalment__order",
            )
            .get(pk=_id(pk))
        )
    except Payment.DoesNotExist:
        raise NotFound(_("Payment not found.")) from None


# Receivables


def receivable_queryset(*, actor) -> QuerySet[Instalment]:
    """Open instalments with money outstanding, in the viewer's scope."""
    return (
        Instalment.objects.visible_to(actor)
        .filter(is_open=True, received__lt=F("amount"))
        .annotate(outstanding_amount=OUTSTANDING)
    )


class ReceivableFilter(django_filters.FilterSet):
    customer = django_filters.ModelChoiceFilter(
        label=_("customer"), queryset=Customer.objects.all()
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"), queryset=User.objects.filter(is_active=True)
    )
    department = django_filters.ModelChoiceFilter(
        label=_("department"), queryset=Department.objects.all(), method="in_subtree"
    )
    overdue = django_filters.BooleanFilter(
        label=_("overdue only"), method="only_overdue"
    )
    due_within = django_filters.NumberFilter(
        label=_("due within (days)"), method="due_within_days", min_value=0
    )

    class Meta:
        model = Instalment
        fields = ["customer", "owner"]
        form = scoped_choices_form(customer=_receivable_customers)

    def in_subtree(self, qs, name, value):
        """A department stands for itself and the departments below it."""
        return qs.filter(department__path__startswith=value.path) if value else qs

    def only_overdue(self, qs, name, value):
        if value is None:
            return qs
        today = timezone.localdate()
        return qs.filter(due_on__lt=today) if value else qs.filter(due_on__gte=today)

    def due_within_days(self, qs, name, value):
        """Falling due from today to N days ahead (not those already overdue)."""
        if value is None:
            return qs
        today = timezone.localdate()
        days = min(int(value), 3650)
        return qs.filter(
            due_on__gte=today, due_on__lte=today + datetime.timedelta(days=days)
        )


class DaysOverdueColumn(Column):
    def value(self, obj):
        days = (timezone.localdate() - obj.due_on).days
        return days if days > 0 else None


@register
class ReceivableList(ListSpec):
    """S6 receivables (应收账款): every open instalment with money outstanding."""

    key = "sales.receivable"
    model = Instalment
    title = _("Receivables")
    columns = [
        Column("customer.name", _("customer"), sort="customer__name", field="customer"),
        Column("document_number", _("contract / order"), link=True, field="contract"),
        Column("sequence", _("instalment no."), sort="sequence"),
        Column("due_on", _("due date"), sort="due_on"),
        Column("amount", _("amount due"), sort="amount"),
        Column("received", _("received"), sort="received"),
        Column(
            "outstanding_amount",
            _("outstanding"),
            sort="outstanding_amount",
            field="amount",
        ),
        DaysOverdueColumn("days_overdue", _("days overdue"), field="due_on"),
        Column("owner.name", _("owner"), sort="owner__name", field="owner"),
    ]
    search_fields = ("customer__name", "contract__number", "order__number", "note")
    filterset_class = ReceivableFilter
    default_sort = "due_on"
    select_related = ("customer", "owner", "contract", "order")
    detail_url_name = "sales:instalment-payment"

    def base_queryset(self, user):
        return receivable_queryset(actor=user)


def receivable_get(*, actor, pk) -> Instalment:
    """An instalment in the viewer's scope (open or not, paid or not); else 404."""
    try:
        return (
            Instalment.objects.visible_to(actor)
            .select_related("customer", "owner", "department", "contract", "order")
            .get(pk=_id(pk))
        )
    except Instalment.DoesNotExist:
        raise NotFound(_("Instalment not found.")) from None


def instalment_payments(*, actor, instalment: Instalment) -> QuerySet[Payment]:
    """The receipts of an instalment that the viewer may see, newest first."""
    return (
        Payment.objects.visible_to(actor)
        .filter(instalment=instalment)
        .select_related("recorded_by", "voided_by")
        .order_by("-received_on", "-pk")
    )


# Aging


def _bucket_q(first: int | None, last: int | None, today: datetime.date) -> Q:
    """Instalments `first`..`last` days overdue on `today` (due on today - days)."""
    q = Q()
    if first is not None:
        q &= Q(due_on__lte=today - datetime.timedelta(days=first))
    if last is not None:
        q &= Q(due_on__gte=today - datetime.timedelta(days=last))
    return q


def aging_sums(today: datetime.date) -> dict:
    """One conditional SUM per bucket, and the total, for aggregate() or annotate()."""
    zero = Decimal("0")
    sums = {
        key: Coalesce(
            Sum(OUTSTANDING, filter=_bucket_q(first, last, today)),
            zero,
            output_field=DecimalField(**MONEY),
        )
        for key, _label, first, last in AGING_BUCKETS
    }
    sums["total"] = Coalesce(Sum(OUTSTANDING), zero, output_field=DecimalField(**MONEY))
    return sums


class RowColumn(Column):
    """A column of an aggregated row (a dict)."""

    def value(self, obj):
        return obj.get(self.name)


class AgingFilter(django_filters.FilterSet):
    customer = django_filters.ModelChoiceFilter(
        label=_("customer"), queryset=Customer.objects.all()
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"), queryset=User.objects.filter(is_active=True)
    )
    department = django_filters.ModelChoiceFilter(
        label=_("department"), queryset=Department.objects.all(), method="in_subtree"
    )

    class Meta:
        model = Instalment
        fields = ["customer", "owner"]
        form = scoped_choices_form(customer=_receivable_customers)

    def in_subtree(self, qs, name, value):
        return qs.filter(department__path__startswith=value.path) if value else qs


@register
class AgingList(ListSpec):
    """S6 aging report: outstanding money per customer and bucket of days overdue.

    Filters and search apply to the receivables (in scope) before they are grouped;
    the rows are dicts, one per customer."""

    key = "sales.aging"
    model = Instalment
    title = _("Receivables aging")
    columns = [
        RowColumn(
            "customer__number",
            _("customer number"),
            sort="customer__number",
            field="customer",
        ),
        RowColumn(
            "customer__name", _("customer"), sort="customer__name", field="customer"
        ),
        *(
            RowColumn(key, label, sort=key, field="amount")
            for key, label, _first, _last in AGING_BUCKETS
        ),
        RowColumn("total", _("total outstanding"), sort="total", field="amount"),
    ]
    search_fields = ("customer__name", "customer__number")
    filterset_class = AgingFilter
    default_sort = "pk"  # of the receivables before grouping; rows sort by total

    def base_queryset(self, user):
        return receivable_queryset(actor=user)

    def receivables(self, user, params, base=None):
        """The visible receivables after filters and search (not grouped)."""
        plain = params.copy() if hasattr(params, "copy") else dict(params)
        plain.pop("sort", None)
        return super().queryset(user, plain, base)

    def queryset(self, user, params, base=None, *, today=None):
        qs, filterset = self.receivables(user, params, base)
        today = today or timezone.localdate()
        grouped = (
            qs.order_by()
            .values("customer", "customer__number", "customer__name")
            .annotate(**aging_sums(today))
        )
        sort = params.get("sort") or ""
        options = self.sort_options(user)
        expr = options.get(sort.lstrip("-"))
        if expr:
            desc = sort.startswith("-")
            grouped = grouped.order_by(
                f"-{expr}" if desc else expr, "-customer" if desc else "customer"
            )
        else:
            grouped = grouped.order_by("-total", "customer")
        return grouped, filterset

    def totals(self, user, params, *, today=None) -> dict:
        qs, _filterset = self.receivables(user, params)
        return qs.order_by().aggregate(**aging_sums(today or timezone.localdate()))


AGING: AgingList = REGISTRY["sales.aging"]


def receivable_aging(*, actor, params=None, today=None) -> dict:
    """Aging rows per customer and the totals, for the viewer, with list filters."""
    params = params if params is not None else QueryDict()
    rows, filterset = AGING.queryset(actor, params, today=today)
    return {
        "rows": rows,
        "totals": AGING.totals(actor, params, today=today),
        "filterset": filterset,
    }
