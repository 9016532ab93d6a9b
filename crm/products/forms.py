from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.web.forms import RecordForm
from crm.products.models import Category, PriceList, Product


def _indented(category):
    return f"{'　' * category.depth}{category.name}"


class ProductForm(RecordForm):
    class Meta:
        model = Product
        fields = [
            "code",
            "name",
            "category",
            "type",
            "specification",
            "unit",
            "list_price",
            "cost",
            "status",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        self.fields["category"].label_from_instance = _indented


class CategoryForm(RecordForm):
    class Meta:
        model = Category
        fields = ["name", "parent", "code", "sort_order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Category.objects.filter(is_active=True)
        self.fields["parent"].label_from_instance = _indented


class PriceListForm(RecordForm):
    class Meta:
        model = PriceList
        fields = ["name", "currency", "valid_from", "valid_to", "is_active", "notes"]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_to": forms.DateInput(attrs={"type": "date"}),
        }


class PriceItemForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("product"), queryset=Product.objects.none()
    )
    price = forms.DecimalField(
        label=_("price"), min_value=0, max_digits=20, decimal_places=6
    )
    min_quantity = forms.DecimalField(
        label=_("minimum quantity"),
        min_value=0,
        initial=1,
        max_digits=14,
        decimal_places=3,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = (
            Product.objects.visible_to(user)
            .filter(status=Product.Status.ACTIVE)
            .order_by("code")
        )
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "form-select"
                if isinstance(field.widget, forms.Select)
                else "form-control"
            )
