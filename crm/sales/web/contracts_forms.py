"""Forms of the contract pages (S4). They check the shape of input; the services in
crm.sales.services.contracts apply the rules. Choices are limited to what the user may
see."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.web.forms import RecordForm
from crm.customers.models import Contact
from crm.customers.selectors import customer_queryset
from crm.products.models import Product
from crm.sales.models import Contract, Opportunity
from crm.sales.models.base import MONEY, PERCENT, QUANTITY
from crm.sales.selectors.contracts import contract_quote_choices

DATE = {"type": "date"}


def style(form) -> None:
    """Bootstrap classes on a plain form's widgets."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-sm")
        else:
            widget.attrs.setdefault("class", "form-control form-control-sm")


def plain(value) -> str:
    """A number as an input shows it: no grouping, no trailing zeros (1460, 12.5)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def contact_label(contact: Contact) -> str:
    return f"{contact.name}（{contact.customer.name}）"


class ContractForm(RecordForm):
    class Meta:
        model = Contract
        fields = [
            "title",
            "customer",
            "contact",
            "opportunity",
            "signed_on",
            "start_on",
            "end_on",
            "currency",
            "terms",
            "notes",
        ]
        widgets = {
            "signed_on": forms.DateInput(attrs=DATE),
            "start_on": forms.DateInput(attrs=DATE),
            "end_on": forms.DateInput(attrs=DATE),
            "terms": forms.Textarea(attrs={"rows": 4}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        customers = customer_queryset(actor=self.user)
        if "customer" in self.fields:
            self.fields["customer"].queryset = customers.order_by("name")
        if "contact" in self.fields:
            contacts = Contact.objects.filter(customer__in=customers.values("pk"))
            if self.instance.pk:
                contacts = contacts.filter(customer=self.instance.customer_id)
            self.fields["contact"].queryset = contacts.select_related("customer")
            self.fields["contact"].label_from_instance = contact_label
        if "opportunity" in self.fields:
            self.fields["opportunity"].queryset = Opportunity.objects.visible_to(
                self.user
            ).order_by("-pk")


class FromQuoteForm(forms.Form):
    quote = forms.ModelChoiceField(label=_("quote"), queryset=None)
    title = forms.CharField(label=_("title"), max_length=200, required=False)
    signed_on = forms.DateField(
        label=_("signed on"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    start_on = forms.DateField(
        label=_("start date"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    end_on = forms.DateField(
        label=_("end date"), required=False, widget=forms.DateInput(attrs=DATE)
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quote"].queryset = contract_quote_choices(actor=user)
        self.fields["quote"].label_from_instance = lambda q: (
            f"{q.number} {q.title}（{q.customer.name}）"
        )
        self.fields["title"].help_text = _("Empty: the quote's title.")
        style(self)

    def service_data(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "quote" and value not in (None, "")
        }


class LineForm(forms.Form):
    """A product line of a contract or order; an empty price takes the list price."""

    product = forms.ModelChoiceField(label=_("product"), queryset=None)
    description = forms.CharField(
        label=_("description"), max_length=255, required=False
    )
    quantity = forms.DecimalField(
        label=_("quantity"),
        max_digits=QUANTITY["max_digits"],
        decimal_places=QUANTITY["decimal_places"],
        initial=1,
    )
    unit_price = forms.DecimalField(
        label=_("unit price"),
        max_digits=MONEY["max_digits"],
        decimal_places=MONEY["decimal_places"],
        required=False,
    )
    discount_percent = forms.DecimalField(
        label=_("discount %"),
        max_digits=PERCENT["max_digits"],
        decimal_places=PERCENT["decimal_places"],
        initial=0,
    )
    tax_rate = forms.DecimalField(
        label=_("tax rate %"),
        max_digits=PERCENT["max_digits"],
        decimal_places=PERCENT["decimal_places"],
        initial=13,
    )

    def __init__(self, *args, user, fields=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = (
            Product.objects.visible_to(user)
            .filter(status=Product.Status.ACTIVE)
            .order_by("code")
        )
        self.fields["product"].label_from_instance = lambda p: f"{p.code} {p.name}"
        if fields is not None:
            for name in list(self.fields):
                if name not in fields:
                    del self.fields[name]
        style(self)

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class InstalmentForm(forms.Form):
    sequence = forms.IntegerField(
        label=_("instalment no."), min_value=1, max_value=32767, required=False
    )
    due_on = forms.DateField(label=_("due date"), widget=forms.DateInput(attrs=DATE))
    amount = forms.DecimalField(
        label=_("amount due"),
        max_digits=MONEY["max_digits"],
        decimal_places=MONEY["decimal_places"],
    )
    note = forms.CharField(label=_("note"), max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("sequence") is None:
            data.pop("sequence", None)
        return data


class SplitForm(forms.Form):
    count = forms.IntegerField(
        label=_("number of instalments"), min_value=1, max_value=120, initial=3
    )
    first_due_on = forms.DateField(
        label=_("first due date"), widget=forms.DateInput(attrs=DATE)
    )
    interval_months = forms.IntegerField(
        label=_("every (months)"), min_value=0, max_value=24, initial=1
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("file"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update(
            {
                "class": "form-control form-control-sm",
                "accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx,.zip",
            }
        )


class NoteForm(forms.Form):
    """A required text (a rejection note, a termination or cancellation reason)."""

    text = forms.CharField(label=_("reason"), max_length=255)

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["text"].label = label
        style(self)
