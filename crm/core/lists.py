"""X1 list machinery, written once: scoped queryset, search, filters, sort, capped counts,
columns honouring field rights, and xlsx/csv export. Every list page, export and export job
is driven by a ListSpec registered here."""

import csv
import io
import json
from dataclasses import dataclass
from functools import cache, reduce
from operator import or_

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_filters import ModelChoiceFilter, ModelMultipleChoiceFilter

from crm.core.api.serializers import is_id
from crm.core.errors import Invalid
from crm.core.fieldrights import field_rights

REGISTRY: dict[str, "ListSpec"] = {}


@dataclass(frozen=True)
class Column:
    name: str  # attribute path on the row, dotted: "category.name"
    label: str
    sort: str | None = None  # order_by expression, None if the column cannot be sorted
    field: str | None = (
        None  # model field governed by field rights (default: first path segment)
    )
    link: bool = False  # render as a link to the row's detail page
    choices: bool = False  # render get_<name>_display()

    @property
    def governed_field(self) -> str:
        return self.field or self.name.split(".")[0]

    def value(self, obj):
        if self.choices:
            # get_FOO_display() rebuilds the choices dict on every call (0.3 ms; X6).
            raw = getattr(obj, self.name)
            return _choice_labels(type(obj), self.name).get(raw, raw)
        value = obj
        for part in self.name.split("."):
            value = getattr(value, part, None) if value is not None else None
        return value


@cache
def _choice_labels(model, name: str) -> dict:
    return dict(model._meta.get_field(name).flatchoices)


class CappedPage(Page):
    def has_next(self) -> bool:
        if self.paginator.capped:
            # Past the cap the end is unknown: a full page may have more rows after it.
            return len(self) == self.paginator.per_page
        return super().has_next()


class CappedPaginator(Paginator):
    """Counts at most `cap` rows, so a page never costs a COUNT(*) over a whole large table.

    Above the cap the count stops, but the rows do not: every page past it can still be
    opened (a plain Paginator would cut the rows at the capped count).
    """

    MAX_OFFSET = 2**31 - 1  # an absurd page number must not overflow the database

    def __init__(self, object_list, per_page, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap or settings.CRM_COUNT_CAP

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def estimate(self) -> int | None:
        """Past the cap, PostgreSQL's planner estimate of the rows ("about 187,000"), when
        it is well past the cap (a near estimate would only blur "more than"); None
        elsewhere. Costs one EXPLAIN instead of counting a million rows (X6)."""
        if not self.capped or connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:  # a never analysed table has no statistics
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                [self.object_list.model._meta.db_table],
            )
            if cursor.fetchone()[0] < 0:
                return None
        plan = json.loads(self.object_list.order_by().explain(format="json"))
        rows = int(plan[0]["Plan"]["Plan Rows"])
        return rows if rows >= 10 * self.cap else None

    def validate_number(self, number):
        if self.capped:
            try:
                number = int(number)
            except (TypeError, ValueError):
                return 1
            return min(max(number, 1), self.MAX_OFFSET // self.per_page)
        try:
            return super().validate_number(number)
        except Exception:
            return 1

    def page(self, number):
        if not self.capped:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(
            self.object_list[bottom : bottom + self.per_page], number, self
        )

    def _get_page(self, *args, **kwargs):
        return CappedPage(*args, **kwargs)


class ListSpec:
    """Configure one list: subclass, set the attributes, decorate with @register."""

    key: str = ""
    model = None
    title = ""
    columns: list[Column] = []
    search_fields: tuple[str, ...] = ()
    filterset_class = None
    default_sort: str = "-pk"
    select_related: tuple[str, ...] = ()
    page_size = 25
    page_sizes = (25, 50, 100)
    detail_url_name: str | None = None

    @property
    def view_perm(self) -> str:
        """The functional permission needed to read this list (Y5)."""
        return f"{self.model._meta.app_label}.view_{self.model._meta.model_name}"

    def base_queryset(self, user) -> QuerySet:
        """The rows this user may see (override to call the app's selector)."""
        return self.model.objects.visible_to(user)

    def search(self, qs: QuerySet, term: str, user) -> QuerySet:
        """Rows containing `term` in a searchable field the user may see (Y5: searching
        a hidden field would tell its value)."""
        hidden = field_rights(user, self.model).hidden
        fields = [f for f in self.search_fields if f.split("__")[0] not in hidden]
        if not term or not fields:
            return qs
        return qs.filter(reduce(or_, (Q(**{f"{f}__icontains": term}) for f in fields)))

    def columns_for(self, user) -> list[Column]:
        hidden = field_rights(user, self.model).hidden
        return [c for c in self.columns if c.governed_field not in hidden]

    def sort_options(self, user) -> dict[str, str]:
        return {c.name: c.sort for c in self.columns_for(user) if c.sort}

    def queryset(
        self, user, params, base: QuerySet | None = None
    ) -> tuple[QuerySet, object]:
        """Scoped rows filtered by `params` (a QueryDict or dict), searched and sorted.

        `base` (already scoped, e.g. with the API's prefetches) replaces base_queryset().
        Values the database cannot compare are refused (Invalid) for every caller alike.
        """
        check_query_params(params, self.filterset_class)
        hidden = field_rights(user, self.model).hidden
        qs = self.base_queryset(user) if base is None else base
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(params, queryset=qs, request=None)
            for name, filter_ in list(filterset.filters.items()):
                # Y5: filtering on a hidden field (price from/to) would tell its value.
                if (filter_.field_name or name).split("__")[0] in hidden:
                    del filterset.filters[name]
            filterset.form.user = user
            qs = filterset.qs if filterset.is_valid() else qs.none()
        qs = self.search(qs, (params.get("q") or "").strip(), user)
        sort = params.get("sort") or ""
        options = self.sort_options(user)
        desc = sort.startswith("-")
        expr = options.get(sort.lstrip("-"))
        if expr:
            qs = qs.order_by(f"-{expr}" if desc else expr, "-pk" if desc else "pk")
        else:
            qs = qs.order_by(self.default_sort, "-pk")
        return qs, filterset

    def paginate(self, qs: QuerySet, params) -> tuple[Page, CappedPaginator]:
        try:
            size = int(params.get("size") or self.page_size)
        except ValueError:
            size = self.page_size
        size = size if size in self.page_sizes else self.page_size
        paginator = CappedPaginator(qs, size)
        return paginator.get_page(params.get("page") or 1), paginator

    # Export

    def export_rows(self, user, qs: QuerySet):
        """Header row then one row of plain values per record, only visible columns."""
        columns = self.columns_for(user)
        yield [str(c.label) for c in columns]
        for obj in qs.iterator(chunk_size=2000):
            yield [export_value(c.value(obj)) for c in columns]


def check_query_params(params, filterset_class=None) -> None:
    """Refuse query values the database cannot compare: NUL characters (PostgreSQL
    refuses them) and record filters that are no id at all (SQLite overflows on 10**20)."""
    bad = {
        name: [_("Null characters are not allowed.")]
        for name, values in _lists(params)
        if any("\x00" in str(value) for value in values) or "\x00" in name
    }
    filters = filterset_class.base_filters if filterset_class else {}
    for name, filter_ in filters.items():
        if not isinstance(filter_, ModelChoiceFilter | ModelMultipleChoiceFilter):
            continue
        if filter_.extra.get("to_field_name"):
            continue
        if any(
            value not in (None, "") and not is_id(str(value))
            for value in dict(_lists(params)).get(name, [])
        ):
            bad.setdefault(name, []).append(
                _(
                    "Select a valid choice. That choice is not one of the available choices."
                )
            )
    if bad:
        raise Invalid(_("Some fields are invalid."), fields=bad)


def _lists(params):
    """(name, [values]) pairs of a QueryDict or a plain dict."""
    if hasattr(params, "lists"):
        return params.lists()
    return ((k, v if isinstance(v, list) else [v]) for k, v in params.items())


def register(spec_class):
    spec = spec_class()
    REGISTRY[spec.key] = spec
    return spec_class


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def export_value(value):
    """A cell value safe to open in a spreadsheet: formula injection is neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        from django.utils import timezone

        value = timezone.localtime(value).replace(tzinfo=None)
    if (
        isinstance(value, str | int | float)
        or hasattr(value, "quantize")
        or hasattr(value, "isoformat")
    ):
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
            return "'" + value
        return value
    return export_value(str(value))


def write_csv(rows) -> bytes:
    """UTF-8 with BOM, so Excel in China opens the Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(rows, title: str = "export", progress=None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=str(title)[:31] or "export")
    for i, row in enumerate(rows):
        ws.append(list(row))
        if progress and i and i % 1000 == 0:
            progress(i)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
