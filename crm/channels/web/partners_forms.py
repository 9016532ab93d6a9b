"""Forms of the partner pages: they check the shape of input; the services apply the
rules (numbers, cycles, territory overlaps, who may manage portal users)."""

from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.channels.models import Partner, Territory, Tier
from crm.channels.selectors.partners_scope import partners_visible
from crm.core.web.forms import RecordForm
from crm.customers.forms import RegionPickerWidget
from crm.customers.models import Region
from crm.org.models import User

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _style(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.HiddenInput | RegionPickerWidget):
            continue
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class PartnerForm(RecordForm):
    region = forms.ModelChoiceField(
        label=_("location"),
        queryset=Region.objects.all(),
        required=False,
        widget=RegionPickerWidget,
    )
    regions_served = forms.ModelMultipleChoiceField(
        label=_("regions served"),
        queryset=Region.objects.filter(level=Region.Level.PROVINCE).order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    credit_limit = forms.DecimalField(
        label=_("credit limit"),
        min_value=0,
        max_digits=20,
        decimal_places=6,
        initial=0,
        help_text=_("0 means no limit set."),
    )

    class Meta:
        model = Partner
        fields = [
            "name",
            "short_name",
            "kind",
            "tier",
            "status",
            "parent",
            "owner",
            "region",
            "regions_served",
            "credit_limit",
            "contact_name",
            "phone",
            "email",
            "address",
            "tax_number",
            "joined_on",
            "notes",
        ]
        labels = {"owner": _("channel manager"), "parent": _("parent partner")}
        widgets = {"notes": forms.Textarea(attrs={"rows": 3}), "joined_on": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            parents = partners_visible(self.user).order_by("number")
            if self.instance.pk:
                parents = parents.exclude(path__startswith=self.instance.path)
            self.fields["parent"].queryset = parents
        if "owner" in self.fields:
            self.fields["owner"].queryset = User.objects.filter(
                is_active=True, partner_membership__isnull=True
            ).order_by("username")
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Empty: you.")
        if self.instance.pk:
            served = list(self.instance.regions_served.values_list("pk", flat=True))
            # Provinces to tick, plus any city an API client chose.
            self.fields["regions_served"].queryset = (
                Region.objects.filter(Q(level=Region.Level.PROVINCE) | Q(pk__in=served))
                .select_related("parent")
                .order_by("code")
            )
            self.fields["regions_served"].initial = served
            self.initial["credit_limit"] = self.instance.credit_limit.quantize(
                Decimal("0.01")
            )


class TierForm(RecordForm):
    class Meta:
        model = Tier
        fields = ["name", "rank", "description"]


class TerritoryForm(forms.ModelForm):
    region = forms.ModelChoiceField(
        label=_("region"), queryset=Region.objects.all(), widget=RegionPickerWidget
    )

    class Meta:
        model = Territory
        fields = ["region", "exclusive", "starts_on", "ends_on"]
        widgets = {"starts_on": DATE, "ends_on": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)

    def _post_clean(self):
        # The overlap rule runs in the service, under the province lock.
        pass


class TerritoryEndForm(forms.Form):
    ends_on = forms.DateField(label=_("until"), required=False, widget=DATE)


class PortalUserForm(forms.Form):
    """A new portal login (HQ for any partner in scope, a partner admin for its own)."""

    username = forms.CharField(label=_("username"), max_length=150)
    name = forms.CharField(label=_("full name"), max_length=50, required=False)
    email = forms.EmailField(label=_("email"), required=False)
    password = forms.CharField(
        label=_("password"), widget=forms.PasswordInput(render_value=False)
    )
    is_admin = forms.BooleanField(label=_("partner administrator"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class PasswordResetForm(forms.Form):
    password = forms.CharField(
        label=_("new password"), widget=forms.PasswordInput(render_value=False)
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)
