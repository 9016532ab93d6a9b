"""Forms of the lead pages: they check the shape of input; the services apply the rules.

The public web form's anti-spam token lives here too: a signed timestamp that proves the
form was fetched from us, and how long ago.
"""

import hashlib
import time

from django import forms
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.core.validators import validate_cn_phone
from crm.core.web.forms import RecordForm
from crm.customers.forms import RegionPickerWidget
from crm.customers.models import Region
from crm.org.models import Department, User
from crm.sales.models import AssignmentRule, Lead
from crm.sales.services.leads import FOLLOW_UP_KINDS

TOKEN_SALT = "crm.sales.lead-web-form"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def min_fill_seconds() -> int:
    """A person takes a few seconds to fill the form; a bot posts at once."""
    return _setting("CRM_LEAD_FORM_MIN_SECONDS", 3)


def token_max_age() -> int:
    return _setting("CRM_LEAD_FORM_TOKEN_MAX_AGE", 24 * 3600)


def issue_token(*, referer: str = "", issued_at: float | None = None) -> str:
    """A signed token carrying when the form was served and the page it was served on."""
    payload = {"t": time.time() if issued_at is None else issued_at, "r": referer[:200]}
    return signing.dumps(payload, salt=TOKEN_SALT, compress=True)


def read_token(token: str) -> dict | None:
    """The token's payload, or None when it is missing, forged or too old."""
    try:
        payload = signing.loads(token or "", salt=TOKEN_SALT, max_age=token_max_age())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("t"), int | float):
        return None
    return payload


def _style(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
            widget.attrs.setdefault("class", "form-check-input")
            continue
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def _employee_label(user) -> str:
    return f"{user.name or user.username} · {user.department or ''}".rstrip(" ·")


def _department_label(department) -> str:
    return f"{'　' * department.depth}{department.name}"


class LeadForm(RecordForm):
    """Create a lead; a holder of sales.assign_lead may give it to someone else."""

    region = forms.ModelChoiceField(
        label=_("region"),
        queryset=Region.objects.all(),
        required=False,
        widget=RegionPickerWidget,
    )

    class Meta:
        model = Lead
        fields = [
            "name",
            "company",
            "job_title",
            "mobile",
            "phone",
            "email",
            "region",
            "address",
            "industry",
            "source",
            "source_detail",
            "next_follow_up_on",
            "requirement",
            "owner",
        ]
        widgets = {
            "requirement": forms.Textarea(attrs={"rows": 3}),
            "next_follow_up_on": forms.DateInput(
                attrs={"type": "date"}, format="%Y-%m-%d"
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            if self.user.has_perm("sales.assign_lead"):
                field = self.fields["owner"]
                field.queryset = User.objects.filter(is_active=True).select_related(
                    "department"
                )
                field.label_from_instance = _employee_label
                field.help_text = _("Empty: yourself.")
            else:
                self.fields.pop("owner")


class LeadEditForm(RecordForm):
    """Edit an open lead, its status included (its owner changes by assignment)."""

    region = LeadForm.base_fields["region"]

    class Meta:
        model = Lead
        fields = [
            "name",
            "company",
            "job_title",
            "mobile",
            "phone",
            "email",
            "region",
            "address",
            "industry",
            "source",
            "source_detail",
            "status",
            "disqualify_reason",
            "next_follow_up_on",
            "requirement",
        ]
        widgets = LeadForm.Meta.widgets

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "status" in self.fields:
            self.fields["status"].choices = [
                (value, label)
                for value, label in Lead.Status.choices
                if value != Lead.Status.CONVERTED
            ]


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=FOLLOW_UP_KINDS.choices)
    occurred_at = forms.DateTimeField(
        label=_("time"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        help_text=_("Empty: now."),
    )
    content = forms.CharField(
        label=_("content"), widget=forms.Textarea(attrs={"rows": 3})
    )
    next_follow_up_on = forms.DateField(
        label=_("next follow-up"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("owner"), queryset=User.objects.filter(is_active=True)
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        field.queryset = (
            User.objects.visible_to(user)
            .filter(is_active=True)
            .select_related("department")
        )
        field.label_from_instance = _employee_label
        _style(self)


def new_customer_fingerprint(data: dict) -> str:
    """What the user confirmed "create a new customer anyway" for."""
    parts = [
        str(data.get(k) or "").strip().upper()
        for k in ("customer_name", "customer_credit_code")
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class ConvertForm(forms.Form):
    """Link the lead to a customer (the one chosen above) or create a new one; create a
    contact or pick one of the customer's; optionally create an opportunity."""

    customer_mode = forms.ChoiceField(
        label=_("customer"),
        choices=[("new", _("Create a new customer")), ("existing", _("Link"))],
        widget=forms.RadioSelect,
        initial="new",
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    customer_name = forms.CharField(
        label=_("customer name"), max_length=200, required=False
    )
    customer_credit_code = forms.CharField(
        label=_("unified social credit code"), max_length=18, required=False
    )
    confirm_new = forms.CharField(required=False, widget=forms.HiddenInput)
    contact_mode = forms.ChoiceField(
        label=_("contact"),
        choices=[
            ("new", _("Create a contact from the lead")),
            ("existing", _("Use an existing contact")),
        ],
        widget=forms.RadioSelect,
        initial="new",
    )
    contact = forms.ModelChoiceField(
        label=_("existing contact"), queryset=None, required=False
    )
    create_opportunity = forms.BooleanField(
        label=_("Create an opportunity"), required=False, initial=True
    )
    opportunity_name = forms.CharField(
        label=_("opportunity name"), max_length=200, required=False
    )
    opportunity_amount = forms.DecimalField(
        label=_("amount"),
        max_digits=20,
        decimal_places=6,
        min_value=0,
        required=False,
    )
    opportunity_expected_close_on = forms.DateField(
        label=_("expected close"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, contacts, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.linked_customer = customer
        self.fields["contact"].queryset = contacts
        if customer is not None:
            self.fields["customer_mode"].choices = [
                ("existing", _("Link to %(name)s") % {"name": customer}),
                ("new", _("Create a new customer")),
            ]
            self.initial.setdefault("customer_mode", "existing")
            self.initial.setdefault("customer", customer.pk)
        else:
            self.fields["customer_mode"].choices = [("new", _("Create a new customer"))]
            self.fields["contact_mode"].choices = self.fields["contact_mode"].choices[
                :1
            ]
        _style(self)

    def clean(self):
        data = super().clean()
        linking = data.get("customer_mode") == "existing"
        if linking and self.linked_customer is None:
            self.add_error("customer_mode", _("Choose the customer to link to."))
        if not linking and not (data.get("customer_name") or "").strip():
            self.add_error("customer_name", _("Name the new customer."))
        if data.get("contact_mode") == "existing":
            if not linking:
                self.add_error(
                    "contact_mode", _("A new customer has no contacts to choose from.")
                )
            elif data.get("contact") is None:
                self.add_error("contact", _("Choose a contact."))
        if (
            data.get("create_opportunity")
            and not (data.get("opportunity_name") or "").strip()
        ):
            self.add_error("opportunity_name", _("Name the opportunity."))
        return data

    def duplicates_confirmed(self) -> bool:
        return self.cleaned_data.get("confirm_new") == new_customer_fingerprint(
            self.cleaned_data
        )

    def confirm_on_next_save(self) -> None:
        self.data = self.data.copy()
        self.data["confirm_new"] = new_customer_fingerprint(self.cleaned_data)


class AssignmentRuleForm(forms.ModelForm):
    class Meta:
        model = AssignmentRule
        fields = ["name", "source", "department", "include_subdepartments", "is_active"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["department"].queryset = Department.objects.filter(is_active=True)
        self.fields["department"].label_from_instance = _department_label
        _style(self)

    def _post_clean(self):
        # The one-active-rule-per-source constraint is checked by the service.
        pass

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class WebLeadForm(forms.Form):
    """The public form. `website` is a honeypot: hidden from people, filled by bots."""

    name = forms.CharField(label=_("Your name"), max_length=100)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    job_title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    mobile = forms.CharField(
        label=_("Mobile"),
        max_length=32,
        required=False,
        validators=[validate_cn_phone],
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        validators=[validate_cn_phone],
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    requirement = forms.CharField(
        label=_("What can we do for you?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    website = forms.CharField(required=False)
    token = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)
        self.fields["website"].widget.attrs.update(
            {"tabindex": "-1", "autocomplete": "off"}
        )

    def clean(self):
        data = super().clean()
        if data.get("name") is not None and not any(
            data.get(k) for k in ("mobile", "phone", "email")
        ):
            self.add_error(
                "mobile", _("Leave a mobile number, a phone number or an e-mail.")
            )
        return data

    def lead_data(self) -> dict:
        return {
            k: v for k, v in self.cleaned_data.items() if k not in ("website", "token")
        }


def web_form_url() -> str:
    return reverse("sales:lead-web-form")
