"""Partner portal pages of D10: the partner's deal registrations (报备) and the form to
register an end customer or deal. Reads filter by request.partner: another partner's
registration ids are not found."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.channels.models import DealRegistration, SellThroughLine
from crm.channels.portal.access import portal_view
from crm.channels.selectors.deals import portal_deal_get, portal_deals
from crm.channels.services import deals as services
from crm.channels.web.marketing_forms import DATE, provinces_and_cities, region_label
from crm.core.errors import DomainError
from crm.core.web.forms import RecordForm
from crm.customers.models import Customer


def partner_customers(partner):
    """The customers a partner may link: those it has reported sales to."""
    return Customer.objects.filter(
        pk__in=SellThroughLine.objects.filter(
            partner=partner, end_customer__isnull=False
        ).values("end_customer")
    ).order_by("name")


class DealForm(RecordForm):
    class Meta:
        model = DealRegistration
        fields = [
            "customer_name",
            "customer",
            "region",
            "project",
            "expected_amount",
            "expected_close_on",
            "notes",
        ]
        widgets = {"expected_close_on": DATE}
        help_texts = {
            "customer": gettext_lazy(
                "Optional: one of the customers you have reported sales to."
            ),
        }

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = partner_customers(partner)
        self.fields["customer"].required = False
        self.fields["customer_name"].required = False
        self.fields["customer_name"].help_text = _(
            "Required unless you link a customer."
        )
        self.fields["region"].queryset = provinces_and_cities()
        self.fields["region"].label_from_instance = region_label


@portal_view
def deal_list(request):
    return render(
        request,
        "channels/portal/deals/list.html",
        {
            "title": _("Deal registrations"),
            "deals": portal_deals(request.partner).order_by("-created_at", "-pk")[:200],
        },
    )


def _form_page(request, form, status=200):
    return render(
        request,
        "core/form.html",
        {
            "base_template": "channels/portal/base.html",
            "form": form,
            "title": _("Register a customer or deal"),
            "list_url": reverse("portal:deal-list"),
            "cancel_url": reverse("portal:deal-list"),
        },
        status=status,
    )


@portal_view
def deal_create(request):
    form = DealForm(request.POST or None, user=request.user, partner=request.partner)
    if request.method != "POST":
        return _form_page(request, form)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    try:
        deal = services.deal_register(actor=request.user, data=form.service_data())
    except DomainError as exc:
        if exc.status in (403, 404) and not exc.fields:
            raise
        for name, errors in exc.fields.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
        if not exc.fields:
            form.add_error(None, exc.message)
        return _form_page(request, form, status=exc.status)
    if deal.status == DealRegistration.Status.CONFLICT:
        messages.warning(
            request,
            _("Registered, but in conflict: your channel manager will decide."),
        )
    else:
        messages.success(request, _("Registered; HQ will review it."))
    return redirect("portal:deal-detail", pk=deal.pk)


@portal_view
def deal_detail(request, pk):
    deal = portal_deal_get(partner=request.partner, pk=pk)
    return render(
        request,
        "channels/portal/deals/detail.html",
        {"title": deal.number, "deal": deal},
    )


urlpatterns = [
    path("deals/", deal_list, name="deal-list"),
    path("deals/new/", deal_create, name="deal-create"),
    path("deals/<int:pk>/", deal_detail, name="deal-detail"),
]
