"""Forms of the sales order pages (S5). Shape only; crm.sales.services.orders applies
the rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.web.forms import RecordForm
from crm.customers.models import Contact
from crm.customers.selectors import customer_queryset
from crm.sales.models import SalesOrder
from crm.sales.models.base import QUANTITY
from crm.sales.web.contracts_forms import DATE, contact_label, plain, style


def quantity_field(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=QUANTITY["max_digits"],
        decimal_places=QUANTITY["decimal_places"],
        min_value=0,
        required=False,
        **kwargs,
    )


class OrderForm(RecordForm):
    class Meta:
        model = SalesOrder
        fields = [
            "customer",
            "contact",
            "ordered_on",
            "delivery_due_on",
            "payment_due_on",
            "shipping_address",
            "currency",
            "notes",
        ]
        widgets = {
            "ordered_on": forms.DateInput(attrs=DATE),
            "delivery_due_on": forms.DateInput(attrs=DATE),
            "payment_due_on": forms.DateInput(attrs=DATE),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        customers = customer_queryset(actor=self.user)
        if "ordered_on" in self.fields and not self.instance.pk:
            self.fields["ordered_on"].initial = timezone.localdate()
        if "customer" in self.fields:
            self.fields["customer"].queryset = customers.order_by("name")
            if self.instance.contract_id:
                self.fields["customer"].disabled = True
                self.fields["customer"].help_text = _("The contract's customer.")
        if "contact" in self.fields:
            contacts = Contact.objects.filter(customer__in=customers.values("pk"))
            if self.instance.pk:
                contacts = contacts.filter(customer=self.instance.customer_id)
            self.fields["contact"].queryset = contacts.select_related("customer")
            self.fields["contact"].label_from_instance = contact_label
        if "payment_due_on" in self.fields and self.instance.contract_id:
            del self.fields["payment_due_on"]  # the contract's plan says when


class FromContractForm(forms.Form):
    """The quantity to order of each contract line (0 leaves it out), and the order's
    dates and address."""

    ordered_on = forms.DateField(
        label=_("order date"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    delivery_due_on = forms.DateField(
        label=_("delivery due"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    shipping_address = forms.CharField(
        label=_("shipping address"), max_length=255, required=False
    )
    notes = forms.CharField(
        label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, lines, remaining, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            left = max(remaining.get(line.pk, 0), 0)
            line.remaining = left
            self.fields[f"quantity_{line.pk}"] = quantity_field(
                f"{line.product.code} {line.product.name}", initial=plain(left)
            )
        self.fields["ordered_on"].initial = timezone.localdate()
        style(self)

    def line_rows(self):
        return [(line, self[f"quantity_{line.pk}"]) for line in self.lines]

    def header_fields(self):
        return [
            self[name]
            for name in ("ordered_on", "delivery_due_on", "shipping_address", "notes")
        ]

    def quantities(self) -> dict:
        return {
            line.pk: self.cleaned_data.get(f"quantity_{line.pk}") or 0
            for line in self.lines
        }

    def header(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ("ordered_on", "delivery_due_on", "shipping_address", "notes")
            if self.cleaned_data.get(name) not in (None, "")
        }


class ConfirmForm(forms.Form):
    override_reason = forms.CharField(
        label=_("credit override reason"),
        max_length=255,
        required=False,
        help_text=_(
            "Only needed to confirm an order over the customer's credit limit."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class DeliverForm(forms.Form):
    delivered_on = forms.DateField(
        label=_("delivered on"), required=False, widget=forms.DateInput(attrs=DATE)
    )

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.delivered_quantity < line.quantity]
        for line in self.lines:
            self.fields[f"quantity_{line.pk}"] = quantity_field(
                f"{line.product.code} {line.product.name}"
            )
        style(self)

    def line_rows(self):
        return [(line, self[f"quantity_{line.pk}"]) for line in self.lines]

    def quantities(self) -> dict:
        return {
            line.pk: self.cleaned_data[f"quantity_{line.pk}"]
            for line in self.lines
            if self.cleaned_data.get(f"quantity_{line.pk}")
        }
