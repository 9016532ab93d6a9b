"""Forms of the commission pages: shape only; the services apply the rules."""

from django import forms
from django.contrib.auth import get_user_model

from crm.core.web.forms import RecordForm
from crm.products.models import Category
from crm.sales.models import CommissionPeriod, CommissionRule

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CommissionRuleForm(RecordForm):
    class Meta:
        model = CommissionRule
        fields = ["name", "employee", "role", "category", "rate", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "employee" in self.fields:
            self.fields["employee"].queryset = get_user_model().objects.filter(
                is_active=True
            )
        if "category" in self.fields:
            self.fields["category"].queryset = Category.objects.filter(is_active=True)


class CommissionPeriodForm(RecordForm):
    class Meta:
        model = CommissionPeriod
        fields = ["name", "start_on", "end_on"]
        widgets = {"start_on": DATE, "end_on": DATE}
