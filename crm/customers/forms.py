"""Forms for customers and contacts: they check the shape of input; services the rules."""

import hashlib

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.core.web.forms import RecordForm
from crm.customers.models import Contact, Customer, Region
from crm.customers.selectors import (
    customer_queryset,
    provinces,
    region_children,
    region_get,
)
from crm.org.models import Department, User

LEVELS = ("province", "city", "district")


class RegionPickerWidget(forms.Widget):
    """Province → city → district as three chained selects (htmx reloads the lower ones
    when a higher one changes); the value is the most specific region chosen."""

    template_name = "customers/widgets/region_picker.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"].update(region_picker_context(name, value))
        context["widget"]["with_ids"] = True
        return context

    def value_from_datadict(self, data, files, name):
        for level in reversed(LEVELS):
            value = data.get(f"{name}_{level}")
            if value:
                return value
        return None

    def value_omitted_from_data(self, data, files, name):
        return not any(f"{name}_{level}" in data for level in LEVELS)

    def id_for_label(self, id_):
        return f"{id_}_province" if id_ else id_


def region_picker_context(name: str, value) -> dict:
    """Options and selected ids of the three selects for a region (id, Region or None)."""
    region = value if isinstance(value, Region) else region_get(value)
    chain: list[Region] = []
    node = region
    while node is not None:
        chain.insert(0, node)
        node = node.parent if node.parent_id else None
    selected = {level: None for level in LEVELS}
    for level, node in zip(LEVELS, chain, strict=False):
        selected[level] = node
    return {
        "picker_url": reverse("customers:region-picker"),
        "field_name": name,
        "levels": [
            {
                "level": "province",
                "label": _("Province"),
                "options": provinces(),
                "selected": selected["province"],
            },
            {
                "level": "city",
                "label": _("City"),
                "options": region_children(selected["province"]),
                "selected": selected["city"],
            },
            {
                "level": "district",
                "label": _("District"),
                "options": region_children(selected["city"]),
                "selected": selected["district"],
            },
        ],
    }


class CustomerNumberField(forms.ModelChoiceField):
    """A customer picked by its number (a search box in the browser); any number the
    user may see, never a list of every customer."""

    default_error_messages = {
        "invalid_choice": _("No customer with this number within your scope."),
    }

    def __init__(self, *args, **kwargs):
        kwargs["to_field_name"] = "number"
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"data-customer-lookup": "", "autocomplete": "off"}),
        )
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.number} {obj.name}"


def duplicate_fingerprint(data: dict) -> str:
    """What the user confirmed "create anyway" for; other input is checked again."""
    parts = [
        str(data.get(k) or "").strip().upper()
        for k in ("name", "credit_code", "main_phone", "finance_phone")
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class CustomerForm(RecordForm):
    region = forms.ModelChoiceField(
        label=_("region"),
        queryset=Region.objects.all(),
        required=False,
        widget=RegionPickerWidget,
    )
    homepage = forms.URLField(
        label=_("homepage"), required=False, assume_scheme="https"
    )
    confirm_duplicates = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Customer
        fields = [
            "name",
            "mnemonic",
            "credit_code",
            "level",
            "type",
            "status",
            "industry",
            "credit_rating",
            "credit_limit",
            "main_phone",
            "finance_phone",
            "email",
            "homepage",
            "region",
            "address",
            "postcode",
            "parent",
            "registered_at",
            "owner",
            "department",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "registered_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }
        field_classes = {"parent": CustomerNumberField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            choices = customer_queryset(actor=self.user)
            if self.instance.pk:
                choices = choices.exclude(pk=self.instance.pk)
            self.fields["parent"].queryset = choices
            self.fields["parent"].widget.attrs["data-customer-lookup"] = reverse(
                "customers:customer-lookup"
            )
            self.fields["parent"].help_text = _("The parent company's customer number.")
            if self.instance.parent_id and not self.is_bound:
                self.initial["parent"] = self.instance.parent.number
        if "owner" in self.fields:
            self.fields["owner"].queryset = User.objects.visible_to(self.user).filter(
                is_active=True
            )
        if not self.user.has_perm("customers.assign_customer"):
            # Owner and department change only by assignment (C8); the creator owns.
            for name in ("owner", "department"):
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _(
                        "Changed by assigning the customer."
                    )
        if "department" in self.fields:
            self.fields["department"].queryset = Department.objects.filter(
                is_active=True
            )
            self.fields["department"].label_from_instance = lambda d: (
                f"{'　' * d.depth}{d.name}"
            )
        self.fields["registered_at"].input_formats = ["%Y-%m-%dT%H:%M"]

    def service_data(self) -> dict:
        data = super().service_data()
        data.pop("confirm_duplicates", None)
        return data

    def duplicates_confirmed(self) -> bool:
        return self.cleaned_data.get("confirm_duplicates") == duplicate_fingerprint(
            self.cleaned_data
        )

    def confirm_on_next_save(self) -> None:
        """Re-render with the fingerprint set: saving the same input again creates it."""
        self.data = self.data.copy()
        self.data[self.add_prefix("confirm_duplicates")] = duplicate_fingerprint(
            self.cleaned_data
        )


class ContactForm(RecordForm):
    class Meta:
        model = Contact
        fields = [
            "name",
            "gender",
            "age",
            "department_name",
            "position",
            "supervisor",
            "mobile",
            "office_phone",
            "home_phone",
            "fax",
            "email",
            "birthday",
            "hobbies",
            "responsible",
            "is_primary",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        if "supervisor" in self.fields:
            colleagues = Contact.objects.filter(customer=customer)
            if self.instance.pk:
                colleagues = colleagues.exclude(pk=self.instance.pk)
            self.fields["supervisor"].queryset = colleagues
        if "responsible" in self.fields:
            self.fields["responsible"].queryset = User.objects.filter(is_active=True)

    def service_data(self) -> dict:
        data = super().service_data()
        data["customer"] = self.customer
        return data


class MergeForm(forms.Form):
    """Which customer survives and, per field, whose value it keeps."""

    survivor = forms.IntegerField()

    def __init__(self, *args, customers: list[Customer], fields: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.customers = customers
        ids = [(c.pk, c.number) for c in customers]
        self.fields["survivor"] = forms.TypedChoiceField(
            label=_("surviving customer"), choices=ids, coerce=int
        )
        for name in fields:
            self.fields[f"field_{name}"] = forms.TypedChoiceField(
                choices=ids, coerce=int, required=False
            )
        for customer in customers:
            self.fields[f"version_{customer.pk}"] = forms.IntegerField(required=False)

    def choices(self, fields: list[str]) -> dict[str, int]:
        return {
            name: self.cleaned_data[f"field_{name}"]
            for name in fields
            if self.cleaned_data.get(f"field_{name}")
        }

    def versions(self) -> dict[int, int]:
        return {
            c.pk: self.cleaned_data[f"version_{c.pk}"]
            for c in self.customers
            if self.cleaned_data.get(f"version_{c.pk}") is not None
        }
