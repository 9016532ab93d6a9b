"""S10 reads: a customer's sales records for the 360° tabs, and the rep's home panels.

Everything goes through `visible_to` (the sales data scope): a rep who sees a customer
does not see another rep's quote for it. Each tab and each panel costs a constant number
of queries — a count and one LIMITed, select_related list — whatever the data.
"""

import calendar
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.fieldrights import field_rights
from crm.core.home import PANEL_ITEMS, url_or_blank
from crm.core.params import get_param
from crm.core.scopes import can
from crm.sales.models import (
    Contract,
    Instalment,
    Lead,
    Opportunity,
    Payment,
    Quote,
    SalesOrder,
)

TAB_ROWS = 20  # rows a 360° tab shows; the list page has them all

# Customer 360° tabs (C5)


@dataclass(frozen=True)
class CustomerTab:
    """One sales document type as a tab of the customer's page."""

    key: str
    model: type
    label: str | Promise
    icon: str
    order: int
    detail_url: str
    title: Callable  # row -> the title / name column
    title_label: str | Promise
    date_field: str
    date_label: str | Promise
    amount_field: str | None = None
    money: str = "product"  # decimal places of the amount (Y2)
    create_url: str = ""
    list_url: str = ""
    list_param: str = "q"  # "customer" (an id filter) or "q" (search by name)
    select_related: tuple[str, ...] = ("owner",)
    status_label: Callable | None = None

    @property
    def view_perm(self) -> str:
        return f"sales.view_{self.model._meta.model_name}"

    @property
    def add_perm(self) -> str:
        return f"sales.add_{self.model._meta.model_name}"


def _opportunity_status(opportunity: Opportunity) -> str:
    if opportunity.is_open:
        return opportunity.stage.name
    return opportunity.get_status_display()


CUSTOMER_TABS: list[CustomerTab] = [
    CustomerTab(
        "leads",
        Lead,
        gettext_lazy("Leads"),
        "funnel",
        30,
        "sales:lead-detail",
        title=str,
        title_label=gettext_lazy("Lead"),
        date_field="converted_at",
        date_label=gettext_lazy("Converted"),
        list_url="sales:lead-list",
    ),
    CustomerTab(
        "opportunities",
        Opportunity,
        gettext_lazy("Opportunities"),
        "bullseye",
        40,
        "sales:opportunity-detail",
        title=lambda o: o.name,
        title_label=gettext_lazy("Name"),
        date_field="expected_close_on",
        date_label=gettext_lazy("Expected close"),
        amount_field="amount",
        create_url="sales:opportunity-create",
        list_url="sales:opportunity-list",
        select_related=("owner", "stage"),
        status_label=_opportunity_status,
    ),
    CustomerTab(
        "quotes",
        Quote,
        gettext_lazy("Quotes"),
        "file-text",
        50,
        "sales:quote-detail",
        title=lambda q: q.title,
        title_label=gettext_lazy("Title"),
        date_field="quoted_on",
        date_label=gettext_lazy("Quote date"),
        amount_field="total",
        money="quote",
        create_url="sales:quote-create",
        list_url="sales:quote-list",
    ),
    CustomerTab(
        "contracts",
        Contract,
        gettext_lazy("Contracts"),
        "file-earmark-check",
        60,
        "sales:contract-detail",
        title=lambda c: c.title,
        title_label=gettext_lazy("Title"),
        date_field="signed_on",
        date_label=gettext_lazy("Signed on"),
        amount_field="total",
        money="contract",
        create_url="sales:contract-create",
        list_url="sales:contract-list",
    ),
    CustomerTab(
        "orders",
        SalesOrder,
        gettext_lazy("Sales orders"),
        "cart",
        70,
        "sales:order-detail",
        title=lambda o: o.get_delivery_status_display(),
        title_label=gettext_lazy("Delivery"),
        date_field="ordered_on",
        date_label=gettext_lazy("Order date"),
        amount_field="total",
        money="order",
        create_url="sales:order-create",
        list_url="sales:order-list",
    ),
    CustomerTab(
        "payments",
        Payment,
        gettext_lazy("Payments"),
        "cash-coin",
        80,
        "sales:payment-detail",
        title=lambda p: " · ".join(
            part for part in (p.get_method_display(), p.reference) if part
        ),
        title_label=gettext_lazy("Method"),
        date_field="received_on",
        date_label=gettext_lazy("Received on"),
        amount_field="amount",
        money="contract",
        list_url="sales:payment-list",
        list_param="customer",
    ),
]
TABS_BY_KEY = {tab.key: tab for tab in CUSTOMER_TABS}


def customer_records(*, actor, tab: CustomerTab, customer):
    """The customer's documents of one type that the user may see, newest first."""
    return (
        tab.model.objects.visible_to(actor)
        .filter(customer=customer)
        .order_by(F(tab.date_field).desc(nulls_last=True), "-pk")
    )


def customer_tab_count(*, actor, tab: CustomerTab, customer) -> int:
    return customer_records(actor=actor, tab=tab, customer=customer).count()


def customer_tab_rows(*, actor, tab: CustomerTab, customer) -> dict:
    """The first TAB_ROWS records as display rows, how many there are in all, and the
    links (record pages, the filtered list, a new record for this customer)."""
    qs = customer_records(actor=actor, tab=tab, customer=customer)
    records = list(qs.select_related(*tab.select_related)[: TAB_ROWS + 1])
    more = len(records) > TAB_ROWS
    records = records[:TAB_ROWS]
    count = qs.count() if more else len(records)
    hidden = field_rights(actor, tab.model).hidden
    show_amount = tab.amount_field is not None and tab.amount_field not in hidden
    detail = _url_maker(tab.detail_url)
    rows = [
        {
            "id": obj.pk,
            "number": getattr(obj, "number", ""),
            "title": tab.title(obj),
            "status": obj.status,
            "status_label": tab.status_label(obj)
            if tab.status_label
            else obj.get_status_display(),
            "amount": getattr(obj, tab.amount_field) if show_amount else None,
            "date": getattr(obj, tab.date_field),
            "owner": obj.owner,
            "url": detail(obj.pk),
        }
        for obj in records
    ]
    list_url = url_or_blank(tab.list_url) if tab.list_url else ""
    if list_url:
        value = customer.pk if tab.list_param == "customer" else customer.name
        list_url = f"{list_url}?{urlencode({tab.list_param: value})}"
    create_url = ""
    if tab.create_url and can(actor, tab.add_perm):
        create_url = url_or_blank(tab.create_url)
        if create_url:
            create_url = f"{create_url}?customer={customer.pk}"
    return {
        "rows": rows,
        "count": count,
        "more": more,
        "show_amount": show_amount,
        "list_url": list_url,
        "create_url": create_url,
    }


def customer_receivable(*, actor, customer) -> dict | None:
    """What the customer still owes on the instalments the user may see, and how much of
    it is overdue (one query); None without the receivables permission."""
    if not can(actor, "sales.view_instalment"):
        return None
    today = timezone.localdate()
    outstanding = F("amount") - F("received")
    totals = (
        Instalment.objects.visible_to(actor)
        .filter(customer=customer, is_open=True, received__lt=F("amount"))
        .aggregate(
            outstanding=Sum(outstanding),
            overdue=Sum(outstanding, filter=Q(due_on__lt=today)),
        )
    )
    url = url_or_blank("sales:receivables")
    return {
        "outstanding": totals["outstanding"] or Decimal("0"),
        "overdue": totals["overdue"] or Decimal("0"),
        "url": f"{url}?customer={customer.pk}" if url else "",
    }


def _url_maker(url_name: str) -> Callable[[int], str]:
    """pk -> the record page's URL, or "" while that page does not exist yet."""
    probe = url_or_blank(url_name, 1)
    if not probe:
        return lambda pk: ""
    return lambda pk: url_or_blank(url_name, pk)


# Home panels ("my work")


def _month_end(day):
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def lead_follow_ups_panel(user) -> dict:
    """My open leads whose next follow-up is today or past."""
    today = timezone.localdate()
    qs = Lead.objects.visible_to(user).filter(
        owner=user,
        next_follow_up_on__lte=today,
        status__in=[Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.QUALIFIED],
    )
    count = qs.count()
    leads = qs.order_by("next_follow_up_on", "pk")[:PANEL_ITEMS] if count else []
    detail = _url_maker("sales:lead-detail")
    items = [
        {
            "kind": "lead",
            "id": lead.pk,
            "title": str(lead),
            "subtitle": lead.number,
            "url": detail(lead.pk),
            "date": lead.next_follow_up_on,
            "status": lead.status,
            "status_label": lead.get_status_display(),
            "overdue": lead.next_follow_up_on < today,
        }
        for lead in leads
    ]
    return {
        "count": count,
        "items": items,
        "more_url": url_or_blank("sales:lead-list"),
        "empty": _("No lead to follow up today."),
    }


def instalments_panel(user) -> dict:
    """My open instalments with money outstanding, due within the reminder window
    (the receivable_reminder_days parameter) or overdue."""
    today = timezone.localdate()
    horizon = today + datetime.timedelta(
        days=int(get_param("receivable_reminder_days"))
    )
    qs = Instalment.objects.visible_to(user).filter(
        owner=user, is_open=True, received__lt=F("amount"), due_on__lte=horizon
    )
    totals = qs.aggregate(count=Count("pk"), total=Sum(F("amount") - F("received")))
    rows = (
        qs.select_related("customer", "contract", "order").order_by(
            "due_on", "sequence", "pk"
        )[:PANEL_ITEMS]
        if totals["count"]
        else []
    )
    pay = _url_maker("sales:instalment-payment")
    items = [
        {
            "kind": "instalment",
            "id": row.pk,
            "title": row.customer.name,
            "subtitle": _("%(document)s, instalment %(n)s")
            % {"document": row.document_number, "n": row.sequence},
            "url": pay(row.pk),
            "date": row.due_on,
            "amount": row.outstanding,
            "money": "contract" if row.contract_id else "order",
            "overdue": row.due_on < today,
        }
        for row in rows
    ]
    return {
        "count": totals["count"],
        "items": items,
        "total": totals["total"] or Decimal("0"),
        "more_url": url_or_blank("sales:receivables"),
        "empty": _("No instalment due soon."),
    }


def approvals_panel(user) -> dict | None:
    """Quotes (core.approve_discount) and contracts (sales.approve_contract) pending
    approval in my scope, except those I submitted myself (no self-approval)."""
    kinds = []
    if can(user, "core.approve_discount") and can(user, "sales.view_quote"):
        kinds.append(("quote", Quote, "sales:quote-detail", "quote"))
    if can(user, "sales.approve_contract") and can(user, "sales.view_contract"):
        kinds.append(("contract", Contract, "sales:contract-detail", "contract"))
    if not kinds:
        return None
    count, items = 0, []
    for kind, model, url_name, money in kinds:
        qs = (
            model.objects.visible_to(user)
            .filter(status=model.Status.PENDING_APPROVAL)
            .exclude(submitted_by=user)
        )
        n = qs.count()
        count += n
        if not n:
            continue
        detail = _url_maker(url_name)
        for doc in qs.select_related("customer", "submitted_by").order_by(
            "submitted_at", "pk"
        )[:PANEL_ITEMS]:
            items.append(
                {
                    "kind": kind,
                    "id": doc.pk,
                    "title": f"{doc.number} {doc.title}",
                    "subtitle": doc.customer.name
                    + (f" · {doc.submitted_by}" if doc.submitted_by else ""),
                    "url": detail(doc.pk),
                    "date": doc.submitted_at,
                    "amount": doc.total,
                    "money": money,
                    "status": doc.status,
                    "status_label": capfirst(model._meta.verbose_name),
                }
            )
    far_future = timezone.now() + datetime.timedelta(days=36500)
    items.sort(key=lambda i: (i["date"] or far_future, i["kind"], i["id"]))
    return {
        "count": count,
        "items": items[:PANEL_ITEMS],
        "more_url": "",
        "empty": _("Nothing waits for your approval."),
    }


def opportunities_panel(user) -> dict:
    """My open opportunities expected to close by the end of this month (earlier dates
    are overdue: the date or the stage needs updating)."""
    today = timezone.localdate()
    qs = Opportunity.objects.visible_to(user).filter(
        owner=user,
        status=Opportunity.Status.OPEN,
        expected_close_on__lte=_month_end(today),
    )
    totals = qs.aggregate(count=Count("pk"), total=Sum("amount"))
    rows = (
        qs.select_related("customer", "stage").order_by("expected_close_on", "pk")[
            :PANEL_ITEMS
        ]
        if totals["count"]
        else []
    )
    detail = _url_maker("sales:opportunity-detail")
    hidden = field_rights(user, Opportunity).hidden
    items = [
        {
            "kind": "opportunity",
            "id": o.pk,
            "title": o.name,
            "subtitle": f"{o.customer.name} · {o.stage.name}",
            "url": detail(o.pk),
            "date": o.expected_close_on,
            "amount": None if "amount" in hidden else o.amount,
            "status": o.status,
            "status_label": f"{o.stage.probability}%",
            "overdue": o.expected_close_on < today,
        }
        for o in rows
    ]
    return {
        "count": totals["count"],
        "items": items,
        "total": None if "amount" in hidden else (totals["total"] or Decimal("0")),
        "more_url": url_or_blank("sales:opportunity-list"),
        "empty": _("No opportunity closes this month."),
    }
