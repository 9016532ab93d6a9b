"""Forms of the target and score pages: they check the shape; crm.channels.services.
scores applies the rules."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.channels.models import Kpi, PartnerTarget, PeriodKind, ScorePeriod
from crm.channels.selectors.partners_scope import partners_visible
from crm.core.web.forms import RecordForm
from crm.products.models import Category

MIN_LINE_ROWS = 3


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TargetForm(RecordForm):
    """A target and its product-line quantity rows (line_<n>_category/_quantity)."""

    class Meta:
        model = PartnerTarget
        fields = [
            "partner",
            "period_kind",
            "starts_on",
            "sales_amount",
            "new_customers",
            "service_level",
            "service_level_actual",
        ]
        widgets = {"starts_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners_visible(self.user).order_by("number")
        self.fields["starts_on"].help_text = _(
            "The first day of the month, quarter or year; the end is computed."
        )
        existing = (
            list(self.instance.lines.select_related("category").order_by("pk"))
            if self.instance.pk
            else []
        )
        self.line_rows = max(MIN_LINE_ROWS, len(existing) + 1)
        categories = Category.objects.filter(is_active=True).order_by("path")
        for n in range(1, self.line_rows + 1):
            category = forms.ModelChoiceField(
                label=_("Product line %(n)s") % {"n": n},
                queryset=categories,
                required=False,
            )
            category.label_from_instance = lambda c: f"{'　' * c.depth}{c.name}"
            category.widget.attrs["class"] = "form-select"
            quantity = forms.DecimalField(
                label=_("Quantity target %(n)s") % {"n": n},
                required=False,
                min_value=0,
                max_digits=20,
                decimal_places=6,
            )
            quantity.widget.attrs["class"] = "form-control"
            self.fields[f"line_{n}_category"] = category
            self.fields[f"line_{n}_quantity"] = quantity
            if n <= len(existing) and not self.is_bound:
                self.initial[f"line_{n}_category"] = existing[n - 1].category_id
                self.initial[f"line_{n}_quantity"] = existing[n - 1].quantity

    def service_data(self) -> dict:
        data = {
            name: value
            for name, value in super().service_data().items()
            if not name.startswith("line_")
        }
        lines = []
        for n in range(1, self.line_rows + 1):
            category = self.cleaned_data.get(f"line_{n}_category")
            quantity = self.cleaned_data.get(f"line_{n}_quantity")
            if category is None and quantity in (None, ""):
                continue
            lines.append({"category": category, "quantity": quantity})
        data["lines"] = lines
        return data


class ScorePeriodForm(RecordForm):
    class Meta:
        model = ScorePeriod
        fields = ["kind", "starts_on", "name"]
        widgets = {"starts_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = _("Leave empty for 2026-03, 2026 Q1 or 2026.")
        self.fields["starts_on"].help_text = _(
            "The first day of the month, quarter or year; the end is computed."
        )
        self.fields["kind"].initial = PeriodKind.MONTH


class KpiForm(forms.ModelForm):
    """One row of the KPI settings page (prefix kpi-<id>)."""

    parameters = forms.CharField(
        label=_("parameters"), required=False, widget=forms.TextInput
    )

    class Meta:
        model = Kpi
        fields = ["name", "weight", "active", "parameters"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            weight = self.instance.weight.normalize()
            self.initial["weight"] = format(weight, "f")
        self.initial["parameters"] = json.dumps(
            self.instance.parameters or {}, ensure_ascii=False
        )
        for name, field in self.fields.items():
            if name == "active":
                field.widget.attrs["class"] = "form-check-input"
            else:
                field.widget.attrs["class"] = "form-control form-control-sm"

    def clean_parameters(self):
        raw = (self.cleaned_data.get("parameters") or "").strip()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise forms.ValidationError(
                _('Enter JSON, for example {"deadline_day": 5}.')
            ) from None

    def _post_clean(self):
        pass

    def service_data(self) -> dict:
        return dict(self.cleaned_data)
