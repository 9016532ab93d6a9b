"""Forms for opportunities, stages and competitors (S2): they check the shape of input;
crm.sales.services.opportunities applies the rules."""

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.core.web.forms import RecordForm
from crm.customers.forms import CustomerNumberField
from crm.customers.models import Contact
from crm.customers.selectors import customer_queryset
from crm.products.models import Product
from crm.sales.models import Competitor, Lead, Opportunity, Stage
from crm.sales.models.base import MONEY, QUANTITY


def _current(pks) -> Q:
    pks = [pk for pk in pks if pk]
    return Q(pk__in=pks)


def _styled(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.Select | forms.SelectMultiple):
            widget.attrs["class"] = "form-select form-select-sm"
        elif isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        else:
            widget.attrs.setdefault("class", "form-control form-control-sm")


class OpportunityForm(RecordForm):
    """An opportunity's fields. The stage is chosen when creating (an active open
    stage); later it changes by moving the opportunity. The contact is offered once the
    customer is known."""

    source = forms.ChoiceField(
        label=_("source"), choices=[("", "—"), *Lead.Source.choices], required=False
    )

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "customer",
            "contact",
            "stage",
            "amount",
            "expected_close_on",
            "source",
            "competitors",
            "next_step",
            "description",
        ]
        widgets = {
            "expected_close_on": forms.DateInput(
                attrs={"type": "date"}, format="%Y-%m-%d"
            ),
            "description": forms.Textarea(attrs={"rows": 3}),
            "competitors": forms.CheckboxSelectMultiple,
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
        if "contact" in self.fields:
            if customer is None:
                self.fields.pop("contact")
            else:
                self.fields["contact"].queryset = Contact.objects.visible_to(
                    self.user
                ).filter(Q(customer=customer) | _current([instance.contact_id]))
        if instance.pk:
            self.fields.pop("stage", None)
        elif "stage" in self.fields:
            self.fields["stage"].queryset = Stage.objects.filter(
                is_active=True, kind=Stage.Kind.OPEN
            ).order_by("sort_order", "pk")
            self.fields["stage"].required = False
            self.fields["stage"].empty_label = _("First stage")
        if "competitors" in self.fields:
            current = (
                list(instance.competitors.values_list("pk", flat=True))
                if (instance.pk)
                else []
            )
            self.fields["competitors"].queryset = Competitor.objects.filter(
                Q(is_active=True) | _current(current)
            ).order_by("name")
            self.fields["competitors"].widget.attrs.pop("class", None)
        if "amount" in self.fields:
            self.fields["amount"].help_text = _(
                "Typed, or the total of the products added on the opportunity's page."
            )

    def service_data(self) -> dict:
        data = super().service_data()
        if "competitors" in data:
            data["competitors"] = list(data["competitors"])
        return data


class ProductLineForm(forms.Form):
    """A product the customer is interested in; an empty price takes the list price."""

    product = forms.ModelChoiceField(
        label=_("product"), queryset=Product.objects.none()
    )
    quantity = forms.DecimalField(label=_("quantity"), initial=1, **QUANTITY)
    unit_price = forms.DecimalField(label=_("unit price"), required=False, **MONEY)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = (
            Product.objects.visible_to(user)
            .filter(status=Product.Status.ACTIVE)
            .order_by("code")
        )
        self.fields["product"].label_from_instance = lambda p: f"{p.code} {p.name}"
        self.fields["unit_price"].widget.attrs["placeholder"] = _("List price")
        _styled(self)

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class MoveForm(forms.Form):
    """A move to another stage; a won or lost stage needs the reason (the service says
    so, naming the field)."""

    opportunity = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    stage = forms.ModelChoiceField(label=_("stage"), queryset=Stage.objects.none())
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(label=_("win/loss reason"), max_length=255, required=False)
    lost_to = forms.ModelChoiceField(
        label=_("lost to"), queryset=Competitor.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(is_active=True).order_by(
            "sort_order", "pk"
        )
        self.fields["lost_to"].queryset = Competitor.objects.filter(
            is_active=True
        ).order_by("name")
        _styled(self)


class ReopenForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    stage = forms.ModelChoiceField(
        label=_("stage"), queryset=Stage.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(
            is_active=True, kind=Stage.Kind.OPEN
        ).order_by("sort_order", "pk")
        self.fields["stage"].empty_label = _("The stage it was closed from")
        _styled(self)


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "probability", "kind", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)

    def _post_clean(self):
        # The rules (unique name, probability of won/lost stages, the active kinds)
        # are the service's.
        pass


class CompetitorForm(RecordForm):
    website = forms.URLField(
        label=_("website"), required=False, assume_scheme="https", max_length=200
    )

    class Meta:
        model = Competitor
        fields = ["name", "website", "strengths", "weaknesses", "notes", "is_active"]
        widgets = {
            "strengths": forms.Textarea(attrs={"rows": 4}),
            "weaknesses": forms.Textarea(attrs={"rows": 4}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
