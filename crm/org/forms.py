from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.web.forms import RecordForm
from crm.org.models import Department, Role, User


class DepartmentForm(RecordForm):
    class Meta:
        model = Department
        fields = ["name", "kind", "parent", "code", "phone", "sort_order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Department.objects.filter(is_active=True)
        self.fields["parent"].label_from_instance = lambda d: (
            f"{'　' * d.depth}{d.name}"
        )


class EmployeeForm(RecordForm):
    roles = forms.ModelMultipleChoiceField(
        label=_("roles"),
        queryset=Role.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    password = forms.CharField(
        label=_("password"),
        widget=forms.PasswordInput,
        required=False,
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )

    class Meta:
        model = User
        fields = [
            "username",
            "name",
            "employee_no",
            "department",
            "supervisor",
            "position",
            "mobile",
            "phone",
            "email",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].widget.attrs = {}
        self.fields["department"].required = True
        self.fields["department"].queryset = Department.objects.filter(is_active=True)
        self.fields["department"].label_from_instance = lambda d: (
            f"{'　' * d.depth}{d.name}"
        )
        self.fields["supervisor"].queryset = User.objects.filter(
            is_active=True
        ).order_by("name")
        if self.instance.pk:
            self.fields.pop("password")
            self.fields["username"].disabled = True
            self.initial["roles"] = list(
                self.instance.groups.values_list("pk", flat=True)
            )
        else:
            self.fields["password"].required = True
        if not self.user.has_perm("org.change_role"):
            self.fields["roles"].disabled = True
            self.fields["roles"].help_text = _(
                "Granting roles needs the right to change roles."
            )

    def service_data(self) -> dict:
        data = super().service_data()
        if "roles" in data:
            data["roles"] = list(data["roles"])
        return data
