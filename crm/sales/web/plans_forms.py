"""Forms of the sales plan pages: they check the shape; crm.sales.services.plans the rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.web.forms import RecordForm
from crm.core.web.views import style_filter_form
from crm.org.models import User
from crm.sales.models import SalesTarget
from crm.sales.selectors.plans import sales_departments, sales_employees


def department_label(department) -> str:
    return f"{'　' * department.depth}{department.name}"


class TargetForm(RecordForm):
    class Meta:
        model = SalesTarget
        fields = [
            "period_type",
            "year",
            "period",
            "owner",
            "department",
            "order_target",
            "collection_target",
            "notes",
        ]
        labels = {"owner": _("employee")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            employees = sales_employees(actor=self.user)
            if self.instance.owner_id:
                employees = employees | User.objects.filter(pk=self.instance.owner_id)
            self.fields["owner"].queryset = employees
            self.fields["owner"].help_text = _(
                "Leave empty for the department's own target."
            )
        if "department" in self.fields:
            self.fields["department"].queryset = sales_departments(actor=self.user)
            self.fields["department"].label_from_instance = department_label
            self.fields["department"].help_text = _(
                "An employee's target counts in the employee's department."
            )
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year)
            self.initial.setdefault("period_type", SalesTarget.PeriodType.MONTH)
            self.initial.setdefault("period", timezone.localdate().month)


class TargetPeriodForm(forms.Form):
    """The period of the department view."""

    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    period_type = forms.ChoiceField(
        label=_("period type"), choices=SalesTarget.PeriodType.choices
    )
    period = forms.IntegerField(label=_("period"), min_value=1, max_value=12)

    def __init__(self, data=None, **kwargs):
        today = timezone.localdate()
        initial = {"year": today.year, "period_type": "year", "period": 1}
        super().__init__(data if data else None, initial=initial, **kwargs)
        style_filter_form(self)

    def clean(self):
        data = super().clean()
        kind, period = data.get("period_type"), data.get("period")
        limits = {"month": 12, "quarter": 4, "year": 1}
        if kind == "year":
            data["period"] = 1
        elif kind in limits and period and period > limits[kind]:
            self.add_error(
                "period",
                _("Enter a period from 1 to %(max)s.") % {"max": limits[kind]},
            )
        return data

    def chosen_period(self) -> tuple[str, int, int]:
        if self.is_bound and self.is_valid():
            data = self.cleaned_data
            return data["period_type"], data["year"], data["period"]
        today = timezone.localdate()
        return "year", today.year, 1


class TargetGridForm(forms.Form):
    """Which year, measure and department the yearly grid shows."""

    year = forms.IntegerField(
        label=_("year"), min_value=2000, max_value=2100, required=False
    )
    measure = forms.ChoiceField(
        label=_("measure"),
        choices=[("order", _("Order target")), ("collection", _("Collection target"))],
        required=False,
    )
    department = forms.ModelChoiceField(
        label=_("department"), queryset=None, required=False
    )

    def __init__(self, data=None, *, user, **kwargs):
        initial = {"year": timezone.localdate().year, "measure": "order"}
        super().__init__(data if data else None, initial=initial, **kwargs)
        self.fields["department"].queryset = sales_departments(actor=user)
        self.fields["department"].label_from_instance = department_label
        style_filter_form(self)
