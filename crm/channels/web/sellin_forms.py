"""Forms of D4 sell-in pages (HQ and portal): they check the shape of input;
crm.channels.services.sellin applies the rules."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.channels.models import PurchaseOrder
from crm.channels.models.base import QUANTITY
from crm.products.models import Product

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _styled(form: forms.Form, size: str = "") -> None:
    suffix = f" form-control-{size}" if size else ""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.Select):
            widget.attrs["class"] = (
                f"form-select{' form-select-' + size if size else ''}"
            )
        else:
            widget.attrs.setdefault("class", f"form-control{suffix}")


class OrderHeaderForm(forms.Form):
    wanted_on = forms.DateField(label=_("wanted by"), required=False, widget=DATE)
    shipping_address = forms.CharField(
        label=_("shipping address"), max_length=255, required=False
    )
    notes = forms.CharField(
        label=_("notes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, order: PurchaseOrder | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if order is not None and not self.is_bound:
            for name in ("wanted_on", "shipping_address", "notes", "version"):
                self.initial[name] = getattr(order, name)
        _styled(self)

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class OrderLineForm(forms.Form):
    """One line: a product (searchable, Tom Select) and a quantity; the price is set by
    the service from the agreement."""

    product = forms.ModelChoiceField(
        label=_("product"), queryset=Product.objects.none()
    )
    quantity = forms.DecimalField(
        label=_("quantity"), min_value=0, initial=1, **QUANTITY
    )

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["product"]
        field.queryset = products if products is not None else Product.objects.none()
        field.empty_label = _("Choose…")
        field.label_from_instance = lambda p: f"{p.code} {p.name}"
        field.widget.attrs["data-product-picker"] = "1"
        _styled(self)


class BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, products=None, **kwargs):
        self.products = products
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "products": self.products}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            products=self.products,
        )
        self.add_fields(form, None)
        return form

    def rows(self) -> list[dict]:
        return [
            {
                "product": form.cleaned_data["product"],
                "quantity": form.cleaned_data["quantity"],
            }
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("product")
        ]


LineFormSet = forms.formset_factory(
    OrderLineForm,
    formset=BaseLineFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    can_delete=True,
    max_num=200,
    validate_max=True,
)


def orderable_products(current_ids=()):
    """Active products (and those already on the order), by code."""
    return (
        Product.objects.filter(Q(status=Product.Status.ACTIVE) | Q(pk__in=current_ids))
        .select_related("category")
        .order_by("code")
    )


class ReceiveForm(forms.Form):
    """Per open line a quantity received now, and the date."""

    received_on = forms.DateField(
        label=_("receipt date"),
        required=False,
        widget=DATE,
    )

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.quantity > line.received_quantity]
        for line in self.lines:
            self.fields[f"quantity_{line.pk}"] = forms.DecimalField(
                label=f"{line.product.code} {line.product.name}",
                required=False,
                min_value=0,
                **QUANTITY,
            )
        _styled(self, "sm")

    def line_rows(self):
        return [(line, self[f"quantity_{line.pk}"]) for line in self.lines]

    def quantities(self) -> dict:
        return {
            line.pk: self.cleaned_data[f"quantity_{line.pk}"]
            for line in self.lines
            # An empty or 0 field: nothing of that line received now.
            if self.cleaned_data.get(f"quantity_{line.pk}")
        }


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("note"), max_length=255, required=False)
    override_reason = forms.CharField(
        label=_("reason for exceeding the credit limit"),
        max_length=255,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)
