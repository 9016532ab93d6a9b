"""Generic pages configured per module with a ListSpec and services: list, detail, form, tree."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.core.audit import history_for
from crm.core.errors import Conflict, DomainError, NotFound
from crm.core.fieldrights import field_rights
from crm.core.lists import REGISTRY
from crm.core.scopes import authorize, can
from crm.core.web.widgets import quicken


def display_value(obj, name: str):
    field = obj._meta.get_field(name)
    if field.choices:
        return getattr(obj, f"get_{name}_display")()
    value = getattr(obj, name)
    if field.many_to_many:
        return "、".join(str(v) for v in value.all())
    return value


def style_filter_form(form) -> None:
    for field in form.fields.values():
        quicken(field.widget)
        is_select = isinstance(field.widget, forms.Select)
        field.widget.attrs["class"] = (
            f"{'form-select' if is_select else 'form-control'} form-control-sm crm-filter-field"
        )
        if is_select:
            field.widget.attrs["class"] = "form-select form-select-sm crm-filter-field"


class SpecMixin:
    """Pages over a registered ListSpec: the user needs its view permission and sees its scope."""

    spec_key: str = ""

    def dispatch(self, request, *args, **kwargs):
        authorize(request.user, self.spec.view_perm)
        return super().dispatch(request, *args, **kwargs)

    @property
    def spec(self):
        return REGISTRY[self.spec_key]

    def get_object(self, pk):
        try:
            return self.spec.base_queryset(self.request.user).get(pk=pk)
        except (self.spec.model.DoesNotExist, ValueError):
            raise NotFound(_("Not found, or outside your data scope.")) from None


class ListPageView(SpecMixin, View):
    """Search, filters, sort, capped-count pagination and export for any registered ListSpec."""

    template_name = "core/list.html"
    partial_template = "core/_list_results.html"
    create_url_name: str | None = None
    create_perm: str | None = None
    extra_actions: list[dict] = []

    def get(self, request):
        spec, user = self.spec, request.user
        qs, filterset = spec.queryset(user, request.GET)
        page, paginator = spec.paginate(qs, request.GET)
        columns = spec.columns_for(user)
        if filterset is not None:
            style_filter_form(filterset.form)
        rows = [
            {
                "obj": obj,
                "url": reverse(spec.detail_url_name, args=[obj.pk])
                if spec.detail_url_name
                else "",
                "cells": [(col, col.value(obj)) for col in columns],
            }
            for obj in page
        ]
        context = {
            "spec": spec,
            "title": spec.title,
            "columns": columns,
            "rows": rows,
            "page": page,
            "paginator": paginator,
            "filterset": filterset,
            "q": request.GET.get("q", ""),
            "sort": request.GET.get("sort", ""),
            "can_export": can(user, "core.export_data"),
            "create_url": reverse(self.create_url_name)
            if self.create_url_name
            and (not self.create_perm or can(user, self.create_perm))
            else "",
            "extra_actions": [
                action
                for action in self.extra_actions
                if not action.get("perms") or any(can(user, p) for p in action["perms"])
            ],
        }
        template = (
            self.partial_template
            if request.htmx and not request.htmx.boosted
            else self.template_name
        )
        return render(request, template, context)


class DetailPageView(SpecMixin, View):
    """A record's page: its visible fields, module tabs, and the history tab (Y7)."""

    template_name = "core/detail.html"
    fields: list[str] = []
    edit_url_name: str | None = None
    edit_perm: str | None = None
    list_url_name: str | None = None

    def extra_context(self, obj) -> dict:
        return {}

    def get(self, request, pk):
        obj = self.get_object(pk)
        rights = field_rights(request.user, type(obj))
        fields = [
            (obj._meta.get_field(name).verbose_name, display_value(obj, name))
            for name in self.fields
            if name not in rights.hidden
        ]
        context = {
            "object": obj,
            "title": str(obj),
            "model_name": obj._meta.verbose_name,
            "fields": fields,
            "history": history_for(obj, hidden=rights.hidden),
            "edit_url": reverse(self.edit_url_name, args=[obj.pk])
            if self.edit_url_name
            and (not self.edit_perm or can(request.user, self.edit_perm))
            else "",
            "list_url": reverse(self.list_url_name) if self.list_url_name else "",
            **self.extra_context(obj),
        }
        return render(request, self.template_name, context)


class RecordFormView(SpecMixin, View):
    """Create (no pk) or edit (pk) a record through the module's services."""

    template_name = "core/form.html"
    form_class = None
    create_service = None  # callable(*, actor, data) -> obj
    update_service = None  # callable(*, actor, obj, data, version) -> obj
    perm: str | None = None
    success_url_name: str | None = None
    list_url_name: str | None = None

    def get_form(self, obj=None, data=None):
        return self.form_class(data, instance=obj, user=self.request.user)

    def render_form(self, form, obj, status=200):
        title = (
            (_("Edit %(name)s") % {"name": obj})
            if obj
            else (_("New %(model)s") % {"model": self.spec.model._meta.verbose_name})
        )
        context = {
            "form": form,
            "object": obj,
            "title": title,
            "list_url": reverse(self.list_url_name) if self.list_url_name else "",
            "cancel_url": self.success_url(obj)
            if obj
            else (reverse(self.list_url_name) if self.list_url_name else "/"),
        }
        return render(self.request, self.template_name, context, status=status)

    def success_url(self, obj):
        return (
            reverse(self.success_url_name, args=[obj.pk])
            if self.success_url_name
            else "/"
        )

    def get(self, request, pk=None):
        if self.perm:
            authorize(request.user, self.perm)
        obj = self.get_object(pk) if pk else None
        return self.render_form(self.get_form(obj), obj)

    def post(self, request, pk=None):
        obj = self.get_object(pk) if pk else None
        form = self.get_form(obj, request.POST)
        if not form.is_valid():
            return self.render_form(form, obj, status=400)
        try:
            if obj is None:
                saved = type(self).create_service(
                    actor=request.user, data=form.service_data()
                )
            else:
                saved = type(self).update_service(
                    actor=request.user,
                    obj=obj,
                    data=form.service_data(),
                    version=form.cleaned_data.get("version"),
                )
        except Conflict as exc:
            form.add_error(None, exc.message)
            return self.render_form(form, obj, status=409)
        except DomainError as exc:
            if exc.status in (403, 404) and not exc.fields:
                raise
            for name, errors in exc.fields.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
            return self.render_form(form, obj, status=exc.status)
        messages.success(request, _("Saved."))
        return redirect(self.success_url(saved))


def build_tree(nodes) -> list[dict]:
    """Nest path-ordered TreeNode rows: [{"node", "children": [...]}]."""
    by_id, roots = {}, []
    for node in sorted(
        nodes, key=lambda n: (n.depth, getattr(n, "sort_order", 0), n.name)
    ):
        item = {"node": node, "children": []}
        by_id[node.pk] = item
        parent = by_id.get(node.parent_id)
        (parent["children"] if parent else roots).append(item)
    return roots


def healthz(request):
    """Liveness and database check, open without login (for load balancers)."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # the database is down: say so with 503
        return HttpResponse(
            f"database error: {exc.__class__.__name__}",
            status=503,
            content_type="text/plain",
        )
    return HttpResponse("ok", content_type="text/plain")
