"""Reads for quotes (S3), always through the sales data scope (Y5)."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.org.models import Department, User
from crm.sales.models import Quote, QuoteLine

MAX_REVISIONS = 100  # a revision chain is walked at most this far each way


class QuoteFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=Quote.Status.choices
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"), queryset=User.objects.filter(is_active=True)
    )
    department = django_filters.ModelChoiceFilter(
        label=_("department"), queryset=Department.objects.all(), method="in_department"
    )
    quoted_from = django_filters.DateFilter(
        label=_("quote date from"),
        field_name="quoted_on",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    quoted_to = django_filters.DateFilter(
        label=_("quote date to"),
        field_name="quoted_on",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    min_total = django_filters.NumberFilter(
        label=_("total from"), field_name="total", lookup_expr="gte"
    )
    max_total = django_filters.NumberFilter(
        label=_("total to"), field_name="total", lookup_expr="lte"
    )

    class Meta:
        model = Quote
        fields = ["status"]

    def in_department(self, qs, name, value):
        """A department stands for its whole subtree."""
        return qs.filter(department__path__startswith=value.path) if value else qs


def quote_queryset(*, actor):
    """The quotes the user may see."""
    return Quote.objects.visible_to(actor)


@register
class QuoteList(ListSpec):
    key = "sales.quote"
    model = Quote
    title = _("Quotes")
    columns = [
        Column("number", _("quote number"), sort="number", link=True),
        Column("title", _("title"), sort="title", link=True),
        Column("customer.name", _("customer"), sort="customer__name", field="customer"),
        Column("status", _("status"), sort="status", choices=True),
        Column("total", _("total"), sort="total"),
        Column("quoted_on", _("quote date"), sort="quoted_on"),
        Column("valid_until", _("valid until"), sort="valid_until"),
        Column("revision", _("revision"), sort="revision"),
        Column("owner.name", _("owner"), sort="owner__name", field="owner"),
        Column(
            "department.name",
            _("department"),
            sort="department__path",
            field="department",
        ),
        Column("created_at", _("created at"), sort="created_at"),
    ]
    search_fields = ("number", "title", "customer__name")
    filterset_class = QuoteFilter
    default_sort = "-pk"
    select_related = ("customer", "owner", "department")
    detail_url_name = "sales:quote-detail"

    def base_queryset(self, user):
        return quote_queryset(actor=user)


def quote_get(*, actor, pk) -> Quote:
    """A quote within the user's scope, else NotFound (404)."""
    if not is_id(pk):
        raise NotFound(_("Quote not found."))
    try:
        return (
            quote_queryset(actor=actor)
            .select_related(
                "customer",
                "contact",
                "opportunity",
                "price_list",
                "owner",
                "department",
                "previous",
                "submitted_by",
                "decided_by",
            )
            .get(pk=pk)
        )
    except Quote.DoesNotExist:
        raise NotFound(_("Quote not found.")) from None


def quote_lines(*, quote: Quote):
    """A quote's lines in order, with their products (whoever may see the quote sees
    what it offers, whatever their product scope)."""
    return QuoteLine.objects.filter(quote=quote).select_related("product")


def quote_line_get(*, actor, quote: Quote, pk) -> QuoteLine:
    """A line of a quote the user may see, else NotFound (404)."""
    if not is_id(pk):
        raise NotFound(_("Quote line not found."))
    try:
        return quote_lines(quote=quote).get(
            pk=pk, quote__in=quote_queryset(actor=actor)
        )
    except QuoteLine.DoesNotExist:
        raise NotFound(_("Quote line not found.")) from None


def quote_revisions(*, actor, quote: Quote) -> list[Quote]:
    """The revision chain the quote belongs to, first revision first, as far as the
    user may see it."""
    visible = quote_queryset(actor=actor).select_related("owner")
    chain = [quote]
    current = quote
    while current.previous_id and len(chain) < MAX_REVISIONS:
        current = visible.filter(pk=current.previous_id).first()
        if current is None:
            break
        chain.insert(0, current)
    current = quote
    while len(chain) < 2 * MAX_REVISIONS:
        current = visible.filter(previous=current).first()
        if current is None:
            break
        chain.append(current)
    return chain
