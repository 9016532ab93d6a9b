"""Forms of D5 sell-through pages: they check the shape of input;
crm.channels.services.sellthrough applies the rules (product active, quantity > 0, …)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.channels.models.base import MONEY, QUANTITY
from crm.channels.services.sellthrough import REFERENCE_MAX
from crm.customers.models import Region
from crm.products.models import Product

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_LINES = 200


def product_choices() -> list[tuple]:
    """Active products as "code name", one query."""
    return [("", "")] + [
        (pk, f"{code} {name}")
        for pk, code, name in Product.objects.filter(status=Product.Status.ACTIVE)
        .order_by("code")
        .values_list("pk", "code", "name")
    ]


def region_choices() -> list[tuple]:
    """Provinces and cities as "省 市" (a page of rows with every district would be
    megabytes; the API and uploads take districts), built from one query."""
    rows = list(
        Region.objects.filter(level__lte=Region.Level.CITY)
        .order_by("code")
        .values_list("pk", "name", "parent_id", "level")
    )
    names = {pk: (name, parent) for pk, name, parent, _level in rows}

    def label(pk):
        parts, node = [], pk
        while node is not None:
            name, parent = names[node]
            if not parts or parts[-1] != name:
                parts.append(name)
            node = parent
        return " ".join(reversed(parts))

    return [("", "")] + [(pk, label(pk)) for pk, *_rest in rows]


class ReportHeaderForm(forms.Form):
    reference = forms.CharField(
        label=_("report id"),
        max_length=REFERENCE_MAX,
        help_text=_(
            "Your own id for this report. Sending the same report id again does not "
            "count the sales twice."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reference"].widget.attrs["class"] = "form-control"


class LineForm(forms.Form):
    sold_on = forms.DateField(label=_("sale date"), widget=DATE)
    product = forms.TypedChoiceField(label=_("product"), coerce=int)
    quantity = forms.DecimalField(label=_("quantity"), **QUANTITY)
    amount = forms.DecimalField(label=_("amount"), **MONEY)
    end_customer_name = forms.CharField(label=_("end customer"), max_length=100)
    region = forms.TypedChoiceField(label=_("region"), coerce=int)

    def __init__(self, *args, products=(), regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = products
        self.fields["region"].choices = regions
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select form-select-sm"
            else:
                widget.attrs["class"] = "form-control form-control-sm"
            widget.attrs["aria-label"] = str(field.label)
            if name in ("quantity", "amount"):
                widget.attrs["class"] += " text-end"


class BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, **kwargs):
        self.choices = {"products": product_choices(), "regions": region_choices()}
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), **self.choices}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            initial={"sold_on": timezone.localdate()},
            **self.choices,
        )
        self.add_fields(form, None)
        return form

    def filled(self) -> list[tuple[int, dict]]:
        """(form index, line) of each row that was filled in."""
        return [
            (index, dict(form.cleaned_data))
            for index, form in enumerate(self.forms)
            if form.cleaned_data and form.has_changed()
        ]


LineFormSet = forms.formset_factory(
    LineForm,
    formset=BaseLineFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=MAX_LINES,
    validate_max=True,
)


class UploadForm(forms.Form):
    reference = forms.CharField(
        label=_("report id"),
        max_length=REFERENCE_MAX,
        required=False,
        help_text=_(
            "Used when the file has no report_id column. Left empty, the file's "
            "content is the report id, so uploading the same file again counts nothing "
            "twice."
        ),
    )
    file = forms.FileField(label=_("file"), help_text=_("Excel (.xlsx) or CSV."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reference"].widget.attrs["class"] = "form-control"
        self.fields["file"].widget.attrs["class"] = "form-control"
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.csv"


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("name"),
        max_length=50,
        help_text=_("What the key is for, e.g. the ERP that sends your sales."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["class"] = "form-control"
