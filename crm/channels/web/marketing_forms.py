"""Forms of the D9 pages (HQ and portal): they check the shape; the services the rules."""

from functools import reduce
from operator import or_

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.channels.models import ExecutionReport, PartnerPlan, Promotion, Tier
from crm.core.web.forms import RecordForm
from crm.customers.models import Region
from crm.products.models import Category

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def region_label(region) -> str:
    return f"{'　' * region.depth}{region.name}"


def category_label(category) -> str:
    return f"{'　' * category.depth}{category.name}"


def provinces_and_cities():
    return Region.objects.filter(depth__lte=1).order_by("path")


def subtree(model, roots, *, max_extra_depth: int | None = None):
    """The nodes at or below `roots` (all nodes when there are none)."""
    qs = model.objects.all()
    if roots:
        q = []
        for root in roots:
            part = Q(path__startswith=root.path)
            if max_extra_depth is not None:
                part &= Q(depth__lte=max(root.depth + max_extra_depth, 1))
            q.append(part)
        qs = qs.filter(reduce(or_, q))
    elif max_extra_depth is not None:
        qs = qs.filter(depth__lte=1)
    return qs.order_by("path")


class PromotionForm(RecordForm):
    class Meta:
        model = Promotion
        fields = [
            "name",
            "starts_on",
            "ends_on",
            "fund_budget",
            "tiers",
            "categories",
            "regions",
            "description",
        ]
        widgets = {
            "starts_on": DATE,
            "ends_on": DATE,
            "tiers": forms.CheckboxSelectMultiple,
            "categories": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "regions" in self.fields:
            self.fields["regions"].queryset = provinces_and_cities()
            self.fields["regions"].label_from_instance = region_label
            self.fields["regions"].widget.attrs["size"] = 10
            self.fields["regions"].help_text = _(
                "None chosen: every region. A province includes its cities."
            )
        if "tiers" in self.fields:
            self.fields["tiers"].queryset = Tier.objects.all()
            self.fields["tiers"].help_text = _("None chosen: every partner tier.")
        if "categories" in self.fields:
            self.fields["categories"].queryset = Category.objects.order_by("path")
            self.fields["categories"].label_from_instance = category_label
            self.fields["categories"].help_text = _(
                "None chosen: every product. A category includes its subcategories."
            )
        if self.instance.pk and self.instance.status != Promotion.Status.DRAFT:
            for name in ("starts_on", "ends_on", "tiers", "categories", "regions"):
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _(
                        "Fixed once the promotion is published."
                    )


class PlanForm(RecordForm):
    """A partner's plan under one promotion: the choices stay inside its scope; the
    dates are free, so the service's refusal names the allowed range."""

    class Meta:
        model = PartnerPlan
        fields = [
            "title",
            "starts_on",
            "ends_on",
            "regions",
            "categories",
            "description",
        ]
        widgets = {
            "starts_on": DATE,
            "ends_on": DATE,
            "regions": forms.CheckboxSelectMultiple,
            "categories": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, promotion: Promotion, **kwargs):
        super().__init__(*args, **kwargs)
        self.promotion = promotion
        period = {"from": promotion.starts_on, "until": promotion.ends_on}
        self.fields["starts_on"].help_text = (
            _("Within the promotion: %(from)s to %(until)s.") % period
        )
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("starts_on", promotion.starts_on)
            self.initial.setdefault("ends_on", promotion.ends_on)
        regions = list(promotion.regions.all())
        self.fields["regions"].queryset = subtree(Region, regions, max_extra_depth=1)
        self.fields["regions"].label_from_instance = lambda r: r.name
        if not regions and len(self.fields["regions"].queryset) > 40:
            self.fields["regions"].widget = forms.SelectMultiple(
                attrs={"class": "form-select", "size": 10}
            )
            self.fields["regions"].widget.choices = self.fields["regions"].choices
        categories = list(promotion.categories.all())
        self.fields["categories"].queryset = subtree(Category, categories)
        self.fields["categories"].label_from_instance = lambda c: c.name
        self.fields["regions"].help_text = (
            _("Within: %(allowed)s.") % {"allowed": "、".join(r.name for r in regions)}
            if regions
            else _("The promotion runs everywhere.")
        )
        self.fields["categories"].help_text = (
            _("Within: %(allowed)s.")
            % {"allowed": "、".join(c.name for c in categories)}
            if categories
            else _("The promotion covers every product.")
        )

    def service_data(self) -> dict:
        return {**super().service_data(), "promotion": self.promotion}


class FundRequestForm(forms.Form):
    amount = forms.DecimalField(
        label=_("amount requested"), max_digits=20, decimal_places=2, min_value=0
    )
    purpose = forms.CharField(label=_("purpose"), max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control form-control-sm"


class ExecutionForm(forms.ModelForm):
    class Meta:
        model = ExecutionReport
        fields = ["reported_on", "spent", "leads", "sales_amount", "summary"]
        widgets = {"reported_on": DATE, "summary": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control form-control-sm"

    def _post_clean(self):
        pass


class DecisionForm(forms.Form):
    """Approve/reject with an optional note; fund approvals may grant less."""

    amount = forms.DecimalField(
        label=_("amount approved"),
        max_digits=20,
        decimal_places=6,
        required=False,
    )
    note = forms.CharField(label=_("decision note"), max_length=255, required=False)
