"""Forms of the payment pages: they check the shape of input; services apply the rules."""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.sales.models import Payment
from crm.sales.models.base import MONEY

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BootstrapForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = (
                    f"{widget.attrs.get('class', '')} is-invalid".strip()
                )


class PaymentForm(BootstrapForm):
    """Record a receipt. The hidden idempotency key is generated when the form is
    rendered, so a double click (or a browser re-post) sends the same key twice and
    the receipt is recorded once."""

    amount = forms.DecimalField(label=_("amount"), **MONEY, min_value=0)
    received_on = forms.DateField(label=_("received on"), widget=DATE)
    method = forms.ChoiceField(label=_("method"), choices=Payment.Method.choices)
    reference = forms.CharField(
        label=_("bank reference"), max_length=100, required=False
    )
    notes = forms.CharField(label=_("notes"), max_length=255, required=False)
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, max_length=64, required=False
    )

    def __init__(self, *args, outstanding=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
            self.initial.setdefault("received_on", timezone.localdate())
            if outstanding is not None:
                self.initial.setdefault("amount", outstanding)


class VoidForm(BootstrapForm):
    reason = forms.CharField(label=_("reason"), max_length=255)
