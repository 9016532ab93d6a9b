from django import forms
from django.db.models import Q
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
        # Active categories, plus the product's current one even if it was deactivated.
        current = Q(pk=self.instance.category_id) if self.instance.pk else Q(pk__in=[])
        self.fields["category"].queryset = Category.objects.filter(
            Q(is_active=True) | current
        )
        self.fields["category"].label_from_instance = _indented


class CategoryForm(RecordForm):
    class Meta:
        model = Category
        fields = ["name", "parent", "code", "sort_order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = (
            Q(pk=self.instance.parent_id) if self.instance.parent_id else Q(pk__in=[])
        )
        choices = Category.objects.filter(Q(is_active=True) | current)
        if self.instance.pk:  # not under itself or its own subtree
            choices = choices.exclude(path__startswith=self.instance.path)
        self.fields["parent"].queryset = choices
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
    # Shape only: the service refuses negative values with a field error.
    price = forms.DecimalField(label=_("price"), max_digits=20, decimal_places=6)
    min_quantity = forms.DecimalField(
        label=_("minimum quantity"),
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
