"""Reads for contracts (S4), always through the sales data scope (Y5)."""

from decimal import Decimal

import django_filters
from django.db.models import QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.core.scopes import authorize
from crm.org.models import Department, User
from crm.sales.models import (
    Contract,
    ContractAttachment,
    ContractLine,
    Instalment,
    Quote,
    SalesOrder,
)

# Quotes a contract may be made from (crm.sales.services.contracts checks it again).
QUOTE_STATUSES = (Quote.Status.APPROVED, Quote.Status.SENT, Quote.Status.ACCEPTED)


class ContractFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=Contract.Status.choices
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"), queryset=User.objects.filter(is_active=True)
    )
    department = django_filters.ModelChoiceFilter(
        label=_("department"), queryset=Department.objects.all(), method="in_department"
    )
    signed_from = django_filters.DateFilter(
        label=_("signed from"), field_name="signed_on", lookup_expr="gte"
    )
    signed_to = django_filters.DateFilter(
        label=_("signed to"), field_name="signed_on", lookup_expr="lte"
    )
    end_from = django_filters.DateFilter(
        label=_("ends from"), field_name="end_on", lookup_expr="gte"
    )
    end_to = django_filters.DateFilter(
        label=_("ends to"), field_name="end_on", lookup_expr="lte"
    )
    min_total = django_filters.NumberFilter(
        label=_("total from"), field_name="total", lookup_expr="gte"
    )
    max_total = django_filters.NumberFilter(
        label=_("total to"), field_name="total", lookup_expr="lte"
    )

    class Meta:
        model = Contract
        fields = ["status"]

    def in_department(self, qs, name, value):
        """A department stands for its whole subtree."""
        return qs.filter(department__path__startswith=value.path) if value else qs


def contract_queryset(*, actor) -> QuerySet[Contract]:
    """The contracts the user may see."""
    return Contract.objects.visible_to(actor)


@register
class ContractList(ListSpec):
    key = "sales.contract"
    model = Contract
    title = _("Contracts")
    columns = [
        Column("number", _("contract number"), sort="number", link=True),
        Column("title", _("title"), sort="title", link=True),
        Column("customer.name", _("customer"), sort="customer__name", field="customer"),
        Column("status", _("status"), sort="status", choices=True),
        Column("total", _("total"), sort="total"),
        Column("signed_on", _("signed on"), sort="signed_on"),
        Column("start_on", _("start date"), sort="start_on"),
        Column("end_on", _("end date"), sort="end_on"),
        Column("quote.number", _("quote"), sort="quote__number", field="quote"),
        Column("owner.name", _("owner"), sort="owner__name", field="owner"),
        Column(
            "department.name",
            _("department"),
            sort="department__path",
            field="department",
        ),
        Column("created_at", _("created at"), sort="created_at"),
    ]
    search_fields = ("number", "title", "customer__name", "quote__number")
    filterset_class = ContractFilter
    default_sort = "-pk"
    select_related = ("customer", "quote", "owner", "department")
    detail_url_name = "sales:contract-detail"

    def base_queryset(self, user):
        return contract_queryset(actor=user)


def contract_get(*, actor, pk) -> Contract:
    """One contract within the user's scope (view permission needed); else 404."""
    authorize(actor, "sales.view_contract")
    if not is_id(pk):
        raise NotFound(_("Contract not found."))
    try:
        return (
            contract_queryset(actor=actor)
            .select_related(
                "customer",
                "contact",
                "quote",
                "opportunity",
                "owner",
                "department",
                "approved_by",
                "submitted_by",
            )
            .get(pk=int(pk))
        )
    except Contract.DoesNotExist:
        raise NotFound(_("Contract not found.")) from None


def contract_lines(*, contract: Contract) -> list[ContractLine]:
    return list(contract.lines.select_related("product"))


def contract_line_get(*, actor, contract: Contract, pk) -> ContractLine:
    if not is_id(pk):
        raise NotFound(_("Contract line not found."))
    try:
        return contract.lines.select_related("product").get(pk=int(pk))
    except ContractLine.DoesNotExist:
        raise NotFound(_("Contract line not found.")) from None


def contract_instalments(*, contract: Contract) -> list[Instalment]:
    return list(contract.instalments.order_by("sequence", "due_on", "pk"))


def contract_instalment_get(*, actor, contract: Contract, pk) -> Instalment:
    if not is_id(pk):
        raise NotFound(_("Instalment not found."))
    try:
        return contract.instalments.get(pk=int(pk))
    except Instalment.DoesNotExist:
        raise NotFound(_("Instalment not found.")) from None


def plan_summary(*, contract: Contract, instalments=None) -> dict:
    """The plan against the total: planned, received and the difference still to
    plan (negative when too much is planned)."""
    if instalments is None:
        sums = contract.instalments.aggregate(
            planned=Sum("amount"), received=Sum("received")
        )
        planned = sums["planned"] or Decimal(0)
        received = sums["received"] or Decimal(0)
    else:
        planned = sum((i.amount for i in instalments), Decimal(0))
        received = sum((i.received for i in instalments), Decimal(0))
    return {
        "planned": planned,
        "received": received,
        "difference": contract.total - planned,
        "outstanding": planned - received,
    }


def contract_attachments(*, contract: Contract) -> list[ContractAttachment]:
    return list(contract.attachments.select_related("uploaded_by"))


def contract_attachment_get(*, actor, pk, contract: Contract | None = None):
    """An attachment of a contract within the user's scope (view permission needed);
    else 404."""
    authorize(actor, "sales.view_contract")
    if not is_id(pk):
        raise NotFound(_("Attachment not found."))
    qs = ContractAttachment.objects.visible_to(actor).select_related("contract")
    if contract is not None:
        qs = qs.filter(contract=contract)
    try:
        return qs.get(pk=int(pk))
    except ContractAttachment.DoesNotExist:
        raise NotFound(_("Attachment not found.")) from None


def contract_orders(*, actor, contract: Contract) -> QuerySet[SalesOrder]:
    """The contract's orders the user may see."""
    return (
        SalesOrder.objects.visible_to(actor)
        .filter(contract=contract)
        .order_by("-ordered_on", "-pk")
    )


def contract_quote_choices(*, actor) -> QuerySet[Quote]:
    """Quotes the user may make a contract from: visible, approved, sent or accepted."""
    return (
        Quote.objects.visible_to(actor)
        .filter(status__in=QUOTE_STATUSES)
        .select_related("customer")
        .order_by("-pk")
    )


def active_contract_choices(*, actor) -> QuerySet[Contract]:
    """Active contracts the user may see (orders are called off from them)."""
    return (
        contract_queryset(actor=actor)
        .filter(status=Contract.Status.ACTIVE)
        .select_related("customer")
        .order_by("-pk")
    )
