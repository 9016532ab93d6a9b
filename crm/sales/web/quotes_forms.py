"""Forms for quotes (S3): they check the shape of input; crm.sales.services.quotes the rules."""

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.core.web.forms import RecordForm
from crm.customers.forms import CustomerNumberField
from crm.customers.models import Contact
from crm.customers.selectors import customer_queryset
from crm.products.models import PriceList, Product
from crm.sales.models import Opportunity, Quote
from crm.sales.models.base import MONEY, PERCENT, QUANTITY


def _current(pk) -> Q:
    return Q(pk=pk) if pk else Q(pk__in=[])


class QuoteForm(RecordForm):
    """The quote's header. Contact and opportunity are offered once the customer is
    known (editing, or a new quote started from a customer or an opportunity)."""

    class Meta:
        model = Quote
        fields = [
            "title",
            "customer",
            "contact",
            "opportunity",
            "price_list",
            "quoted_on",
            "valid_until",
            "currency",
            "terms",
            "notes",
        ]
        widgets = {
            "quoted_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "terms": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        field_classes = {"customer": CustomerNumberField}

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        customers = customer_queryset(actor=self.user)
        if "customer" in self.fields:
            field = self.fields["customer"]
            field.queryset = customers
            field.widget.attrs["data-customer-lookup"] = reverse(
                "customers:customer-lookup"
            )
            field.help_text = _("Type a customer's name, number or pinyin initials.")
            if not self.is_bound:
                chosen = instance.customer if instance.pk else customer
                if chosen is not None:
                    self.initial["customer"] = chosen.number
        if self.is_bound and "customer" in self.fields:
            number = self.data.get(self.add_prefix("customer"), "")
            customer = customers.filter(number=number).first() if number else None
        elif instance.pk:
            customer = instance.customer
        if customer is None:
            self.fields.pop("contact", None)
            self.fields.pop("opportunity", None)
        else:
            if "contact" in self.fields:
                self.fields["contact"].queryset = Contact.objects.visible_to(
                    self.user
                ).filter(Q(customer=customer) | _current(instance.contact_id))
            if "opportunity" in self.fields:
                self.fields["opportunity"].queryset = Opportunity.objects.visible_to(
                    self.user
                ).filter(Q(customer=customer) | _current(instance.opportunity_id))
        if "price_list" in self.fields:
            self.fields["price_list"].queryset = PriceList.objects.visible_to(
                self.user
            ).filter(Q(is_active=True) | _current(instance.price_list_id))
            self.fields["price_list"].help_text = _(
                "New lines take their prices from it; else the list price applies."
            )


def _styled(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", f"{css} form-control-sm")
        if isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select form-select-sm"


class QuoteLineForm(forms.Form):
    """One product line. An empty unit price takes the price list's (or list) price."""

    product = forms.ModelChoiceField(
        label=_("product"), queryset=Product.objects.none()
    )
    description = forms.CharField(
        label=_("description"), max_length=255, required=False
    )
    quantity = forms.DecimalField(label=_("quantity"), initial=1, **QUANTITY)
    unit_price = forms.DecimalField(label=_("unit price"), required=False, **MONEY)
    discount_percent = forms.DecimalField(label=_("discount %"), initial=0, **PERCENT)
    tax_rate = forms.DecimalField(label=_("tax rate %"), initial=13, **PERCENT)

    def __init__(self, *args, user, line=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = _current(line.product_id if line else None)
        self.fields["product"].queryset = (
            Product.objects.visible_to(user)
            .filter(Q(status=Product.Status.ACTIVE) | current)
            .order_by("code")
        )
        self.fields["product"].label_from_instance = lambda p: f"{p.code} {p.name}"
        self.fields["unit_price"].widget.attrs["placeholder"] = _("From the price list")
        if line is not None and not self.is_bound:
            for name in self.fields:
                self.initial[name] = getattr(line, name)
            self.initial["product"] = line.product_id
        _styled(self)

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class QuoteDecisionForm(forms.Form):
    note = forms.CharField(
        label=_("note"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
