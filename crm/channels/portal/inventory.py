"""Partner portal pages: stock reports (渠道库存). The partner's counts (latest first,
filter by product and date), a count form (a date and one row per product; entering a
day again replaces that day's count of the product), and upload of an xlsx/csv file
through core's import machinery (dry run, row errors, all or nothing). Core's own import
pages live under HQ paths that partner users never reach, so these are thin portal pages
calling the same core functions. Every read is by `request.partner`."""

import datetime

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm.channels.models import StockCount
from crm.channels.portal.access import portal_view
from crm.channels.selectors.inventory import (
    DATE,
    latest_counts,
    partner_stock_counts,
)
from crm.channels.services.inventory import stock_count_submit
from crm.channels.services.inventory_import import KEY as IMPORT_KEY
from crm.core import imports
from crm.core.errors import Conflict, Invalid
from crm.core.lists import CappedPaginator
from crm.core.models import ImportJob
from crm.core.web.views import style_filter_form
from crm.products.models import Product

PAGE_SIZE = 25
RUNNING = (ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING)


class StockFilterForm(forms.Form):
    product = forms.ModelChoiceField(
        label=gettext_lazy("product"), queryset=Product.objects.none(), required=False
    )
    date_from = forms.DateField(
        label=gettext_lazy("counted from"), required=False, widget=DATE
    )
    date_to = forms.DateField(
        label=gettext_lazy("counted until"), required=False, widget=DATE
    )

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(
            pk__in=StockCount.objects.filter(partner=partner).values("product")
        ).order_by("code")


@portal_view
def stock_list(request):
    form = StockFilterForm(request.GET or None, partner=request.partner)
    style_filter_form(form)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = partner_stock_counts(
        partner=request.partner,
        product=filters.get("product"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page") or 1)
    return render(
        request,
        "channels/portal/inventory/list.html",
        {"title": _("Stock"), "form": form, "page": page},
        status=200 if form.is_valid() or not request.GET else 400,
    )


def _products():
    return Product.objects.filter(status=Product.Status.ACTIVE).order_by("code")


class CountForm(forms.Form):
    """A date and one optional quantity per product on sale."""

    counted_on = forms.DateField(label=gettext_lazy("count date"), widget=DATE)

    def __init__(self, *args, products, initial_quantities=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = list(products)
        initial_quantities = initial_quantities or {}
        for product in self.products:
            self.fields[f"q_{product.pk}"] = forms.DecimalField(
                label=str(product),
                required=False,
                min_value=0,
                max_digits=16,
                decimal_places=4,
                initial=initial_quantities.get(product.pk),
                widget=forms.NumberInput(
                    attrs={"class": "form-control form-control-sm", "step": "any"}
                ),
            )
        self.fields["counted_on"].widget.attrs["class"] = "form-control"

    def rows(self):
        for product in self.products:
            yield product, self[f"q_{product.pk}"]

    def lines(self) -> list[dict]:
        return [
            {"product": p, "quantity": self.cleaned_data[f"q_{p.pk}"]}
            for p in self.products
            if self.cleaned_data.get(f"q_{p.pk}") is not None
        ]


def _day(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value or "")
    except ValueError:
        return None


@portal_view
@require_http_methods(["GET", "POST"])
def stock_count_create(request):
    """The count form. Opening it for a date shows that day's counts already entered;
    saving replaces them product by product (blank rows are left as they are)."""
    partner, status = request.partner, 200
    products = _products()
    day = _day(request.GET.get("counted_on")) or timezone.localdate()
    entered = {
        c.product_id: c.quantity
        for c in StockCount.objects.filter(partner=partner, counted_on=day)
    }
    last = {
        c.product_id: c
        for c in latest_counts(
            StockCount.objects.filter(partner=partner),
            day - datetime.timedelta(days=1),
        )
    }
    form = CountForm(
        request.POST or None,
        products=products,
        initial={"counted_on": day},
        initial_quantities=entered,
    )
    if request.method == "POST":
        if form.is_valid():
            lines = form.lines()
            try:
                saved = stock_count_submit(
                    actor=request.user,
                    partner=partner,
                    counted_on=form.cleaned_data["counted_on"],
                    lines=lines,
                )
            except Invalid as exc:
                for name, errors in exc.fields.items():
                    parts = name.split(".")
                    target = None
                    if len(parts) == 3 and parts[1].isdigit():
                        index = int(parts[1])
                        if index < len(lines):
                            target = f"q_{lines[index]['product'].pk}"
                    elif name in form.fields:
                        target = name
                    for error in errors:
                        form.add_error(target, error)
                status = 400
            else:
                messages.success(
                    request,
                    _("%(n)s counts saved for %(day)s.")
                    % {"n": len(saved), "day": form.cleaned_data["counted_on"]},
                )
                return redirect("portal:stock-list")
        else:
            status = 400
    rows = [
        {"product": p, "field": f, "entered": entered.get(p.pk), "last": last.get(p.pk)}
        for p, f in form.rows()
    ]
    return render(
        request,
        "channels/portal/inventory/form.html",
        {
            "title": _("Report stock"),
            "form": form,
            "rows": rows,
            "day": day,
            "already": bool(entered),
        },
        status=status,
    )


# Upload


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("file"),
        help_text=gettext_lazy("xlsx or csv, with a header row."),
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".xlsx,.csv"}
        ),
    )


@portal_view
@require_http_methods(["GET", "POST"])
def stock_upload(request):
    """Step 1: a file, stored, its columns recognised, and the dry run started."""
    spec, status = imports.import_spec(IMPORT_KEY), 200
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                job = imports.import_upload(
                    actor=request.user, key=IMPORT_KEY, upload=form.cleaned_data["file"]
                )
                job = imports.import_configure(
                    actor=request.user, job=job, mapping=job.mapping, match_key=""
                )
                job, _background = imports.import_check(actor=request.user, job=job)
            except Invalid as exc:
                form.add_error("file", exc.message)
                status = 400
            else:
                return redirect("portal:stock-upload-job", pk=job.pk)
        else:
            status = 400
    jobs = list(
        ImportJob.objects.filter(user=request.user, spec_key=IMPORT_KEY).order_by(
            "-pk"
        )[:10]
    )
    return render(
        request,
        "channels/portal/inventory/upload.html",
        {
            "title": _("Upload stock counts"),
            "form": form,
            "fields": list(spec.targets(request.user).values()),
            "jobs": jobs,
        },
        status=status,
    )


@portal_view
def stock_upload_job(request, pk):
    """Steps 2–3: the dry run's problems per row, then the commit's outcome."""
    job = imports.import_job_get(actor=request.user, key=IMPORT_KEY, pk=pk)
    running = job.status in RUNNING
    results = [] if running else imports.job_results(job)
    problems = [r for r in results if r["fate"] in imports.PROBLEMS]
    summary = job.summary or {}
    return render(
        request,
        "channels/portal/inventory/upload_job.html",
        {
            "title": _("Upload stock counts"),
            "job": job,
            "running": running,
            "done": imports.job_progress(job),
            "summary": summary,
            "problems": Paginator(problems, 100).get_page(request.GET.get("page")),
            "can_commit": job.status == ImportJob.Status.CHECKED
            and not summary.get("problems")
            and summary.get("new", 0) > 0,
        },
    )


@portal_view
@require_POST
def stock_upload_commit(request, pk):
    job = imports.import_job_get(actor=request.user, key=IMPORT_KEY, pk=pk)
    try:
        job, background = imports.import_commit(actor=request.user, job=job)
    except (Invalid, Conflict) as exc:
        messages.error(request, exc.message)
        return redirect("portal:stock-upload-job", pk=job.pk)
    if background:
        messages.info(request, _("The import runs in the background."))
    elif job.status == ImportJob.Status.DONE:
        messages.success(
            request,
            _("%(n)s counts imported.") % {"n": job.summary.get("new", 0)},
        )
        return redirect("portal:stock-list")
    return redirect("portal:stock-upload-job", pk=job.pk)


@portal_view
def stock_upload_template(request):
    spec = imports.import_spec(IMPORT_KEY)
    response = HttpResponse(
        imports.import_template(spec, request.user), content_type=imports.XLSX_TYPE
    )
    response["Content-Disposition"] = 'attachment; filename="stock-counts.xlsx"'
    return response


@portal_view
def stock_upload_errors(request, pk):
    job = imports.import_job_get(actor=request.user, key=IMPORT_KEY, pk=pk)
    response = HttpResponse(
        imports.import_error_report(job), content_type=imports.XLSX_TYPE
    )
    response["Content-Disposition"] = (
        f'attachment; filename="stock-counts-{job.pk}-errors.xlsx"'
    )
    return response


urlpatterns = [
    path("stock/", stock_list, name="stock-list"),
    path("stock/new/", stock_count_create, name="stock-create"),
    path("stock/upload/", stock_upload, name="stock-upload"),
    path("stock/upload/template/", stock_upload_template, name="stock-upload-template"),
    path("stock/upload/<int:pk>/", stock_upload_job, name="stock-upload-job"),
    path(
        "stock/upload/<int:pk>/commit/",
        stock_upload_commit,
        name="stock-upload-commit",
    ),
    path(
        "stock/upload/<int:pk>/errors/",
        stock_upload_errors,
        name="stock-upload-errors",
    ),
]
