"""Forms of the agreement pages (D2): they check the shape of input; the services in
crm.channels.services.agreements apply the rules. Choices are what the user may see."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.channels.models import Agreement, AgreementTerm
from crm.channels.models.base import MONEY, PERCENT
from crm.channels.selectors.partners_scope import partners_visible
from crm.core.web.forms import RecordForm
from crm.customers.models import Region
from crm.products.models import Category, PriceList

DATE = {"type": "date"}


class AgreementForm(RecordForm):
    class Meta:
        model = Agreement
        fields = [
            "partner",
            "title",
            "starts_on",
            "ends_on",
            "signed_on",
            "price_list",
            "discount_percent",
            "annual_target",
            "territory",
            "categories",
            "terms",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "signed_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "terms": forms.Textarea(attrs={"rows": 4}),
            "territory": forms.SelectMultiple(attrs={"size": 8}),
            "categories": forms.SelectMultiple(attrs={"size": 8}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "partner" in self.fields:
            self.fields["partner"].queryset = partners_visible(self.user).order_by(
                "number"
            )
        if "price_list" in self.fields:
            self.fields["price_list"].queryset = PriceList.objects.filter(
                is_active=True
            ).order_by("name")
        if "territory" in self.fields:
            # Provinces and cities: a territory is not drawn district by district.
            self.fields["territory"].queryset = Region.objects.filter(
                level__lte=Region.Level.CITY
            ).order_by("path")
            self.fields["territory"].help_text = _(
                "Hold Ctrl (⌘ on a Mac) to choose several."
            )
        if "categories" in self.fields:
            self.fields["categories"].queryset = Category.objects.order_by("path")


class RuleForm(forms.Form):
    """A rebate tier or a penalty: the threshold is the achievement of the target in %."""

    kind = forms.ChoiceField(label=_("kind"), choices=AgreementTerm.Kind.choices)
    threshold_percent = forms.DecimalField(
        label=_("achievement threshold %"),
        max_digits=PERCENT["max_digits"],
        decimal_places=PERCENT["decimal_places"],
    )
    percent = forms.DecimalField(
        label=_("rebate on sell-in %"),
        required=False,
        max_digits=PERCENT["max_digits"],
        decimal_places=PERCENT["decimal_places"],
    )
    amount = forms.DecimalField(
        label=_("fine"),
        required=False,
        max_digits=MONEY["max_digits"],
        decimal_places=MONEY["decimal_places"],
    )
    description = forms.CharField(
        label=_("description"), max_length=255, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            widget.attrs.setdefault(
                "class",
                "form-select form-select-sm"
                if isinstance(widget, forms.Select)
                else "form-control form-control-sm",
            )

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        for name in ("percent", "amount"):
            if data.get(name) is None:
                data[name] = 0
        return data


class ReasonForm(forms.Form):
    text = forms.CharField(
        label=_("Reason for terminating"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )
