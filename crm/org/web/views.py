"""Organisation pages: department tree, employees, role editor."""

from collections import OrderedDict

from django.contrib import messages
from django.contrib.auth.models import Permission
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.audit import history_for
from crm.core.errors import Invalid, NotFound
from crm.core.fieldrights import MODES, restrictable_models
from crm.core.scopes import DOMAINS, DataScope, authorize, can
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView, build_tree
from crm.org import services
from crm.org.forms import DepartmentForm, EmployeeForm
from crm.org.models import Role, User
from crm.org.selectors import department_get, department_tree_list

# Departments (Y3)


def department_tree(request):
    nodes = list(department_tree_list(actor=request.user))
    counts = dict(  # headcounts only of the employees this user may see (Y5)
        User.objects.visible_to(request.user)
        .filter(is_active=True)
        .exclude(department=None)
        .values_list("department")
        .annotate(n=Count("pk"))
    )
    for node in nodes:
        node.employee_count = counts.get(node.pk, 0)
    return render(
        request,
        "org/department_tree.html",
        {
            "tree": build_tree(nodes),
            "title": _("Departments"),
            "can_edit": can(request.user, "org.change_department"),
            "can_add": can(request.user, "org.add_department"),
            "deactivate_url_name": "org:department-deactivate",
            "detail_url_name": "org:department-detail",
        },
    )


class DepartmentDetailView(DetailPageView):
    """A department's page: its fields and its history tab (Y7)."""

    spec_key = "org.department"
    fields = [
        "name",
        "kind",
        "parent",
        "code",
        "phone",
        "is_active",
        "sort_order",
        "created_at",
    ]
    edit_url_name = "org:department-edit"
    edit_perm = "org.change_department"
    list_url_name = "org:department-tree"


class DepartmentFormView(RecordFormView):
    spec_key = "org.department"
    form_class = DepartmentForm
    create_service = services.department_create
    update_service = services.department_update
    list_url_name = "org:department-tree"

    def get_object(self, pk):
        return department_get(actor=self.request.user, pk=pk)

    def success_url(self, obj):
        return reverse("org:department-tree")

    def get(self, request, pk=None):
        authorize(request.user, "org.change_department" if pk else "org.add_department")
        obj = self.get_object(pk) if pk else None
        form = self.get_form(obj)
        if not pk and request.GET.get("parent"):
            form.initial["parent"] = request.GET["parent"]
        return self.render_form(form, obj)


@require_POST
def department_deactivate(request, pk):
    services.department_deactivate(
        actor=request.user, dept=department_get(actor=request.user, pk=pk)
    )
    messages.success(request, _("Department deactivated."))
    return redirect("org:department-tree")


# Employees (Y4)


class EmployeeListView(ListPageView):
    spec_key = "org.employee"
    create_url_name = "org:employee-create"
    create_perm = "org.add_user"


class EmployeeDetailView(DetailPageView):
    spec_key = "org.employee"
    fields = [
        "username",
        "name",
        "employee_no",
        "department",
        "supervisor",
        "position",
        "mobile",
        "phone",
        "email",
        "is_active",
        "last_login",
        "date_joined",
    ]
    edit_url_name = "org:employee-edit"
    edit_perm = "org.change_user"
    list_url_name = "org:employee-list"
    template_name = "org/employee_detail.html"

    def extra_context(self, obj):
        return {
            "roles": Role.objects.filter(user=obj),
            "can_deactivate": obj.is_active
            and can(self.request.user, "org.change_user"),
        }


class EmployeeFormView(RecordFormView):
    spec_key = "org.employee"
    form_class = EmployeeForm
    create_service = services.employee_create
    update_service = services.employee_update
    success_url_name = "org:employee-detail"
    list_url_name = "org:employee-list"

    def get(self, request, pk=None):
        authorize(request.user, "org.change_user" if pk else "org.add_user")
        return super().get(request, pk)


@require_POST
def employee_deactivate(request, pk):
    user = EmployeeDetailView(request=request).get_object(pk)
    services.employee_deactivate(actor=request.user, user=user)
    messages.success(request, _("Employee deactivated."))
    return redirect("org:employee-detail", pk=pk)


# Roles (Y5)


class RoleListView(ListPageView):
    spec_key = "org.role"
    create_url_name = "org:role-create"
    create_perm = "org.add_role"


SPECIAL = [
    ("core", "export_data"),
    ("core", "merge_records"),
    ("core", "delete_records"),
    ("core", "approve_discount"),
    ("core", "manage_system"),
    ("products", "view_cost"),
]
FUNCTIONAL_ACTIONS = ("view", "add", "change", "delete")
SKIP_APPS = {"admin", "contenttypes", "sessions", "axes", "authtoken", "auth"}


def _permission_matrix(selected: set[int]):
    """Functional permissions as module → model → action checkboxes; special ones apart."""
    special_ids = set()
    special = []
    for app, code in SPECIAL:
        perm = Permission.objects.filter(
            content_type__app_label=app, codename=code
        ).first()
        if perm:
            special_ids.add(perm.pk)
            special.append({"perm": perm, "checked": perm.pk in selected})
    modules: OrderedDict = OrderedDict()
    perms = (
        Permission.objects.select_related("content_type")
        .exclude(content_type__app_label__in=SKIP_APPS)
        .exclude(pk__in=special_ids)
        .order_by("content_type__app_label", "content_type__model", "codename")
    )
    for perm in perms:
        ct = perm.content_type
        model = ct.model_class()
        if model is None:
            continue
        module = modules.setdefault(
            ct.app_label, {"label": model._meta.app_config.verbose_name, "models": {}}
        )
        row = module["models"].setdefault(
            ct.model, {"label": model._meta.verbose_name, "actions": {}}
        )
        action = perm.codename.split("_", 1)[0]
        if action in FUNCTIONAL_ACTIONS:
            row["actions"][action] = {"perm": perm, "checked": perm.pk in selected}
    return modules, special


def _field_matrix(rights: dict):
    rows = []
    for model in restrictable_models():
        label = model._meta.label_lower
        for name in model.restrictable_fields:
            rows.append(
                {
                    "model": model._meta.verbose_name,
                    "label": label,
                    "field": name,
                    "field_label": model._meta.get_field(name).verbose_name,
                    "mode": rights.get(label, {}).get(name, "edit"),
                }
            )
    return rows


def role_edit(request, pk=None):
    """The role editor: functional and special permissions, data scope per domain, field rights."""
    role = None
    if pk:
        try:
            role = Role.objects.get(pk=pk)
        except Role.DoesNotExist:
            raise NotFound(_("Role not found.")) from None
    authorize(request.user, "org.change_role" if role else "org.add_role")
    errors, status = {}, 200
    data = {
        "name": role.name if role else "",
        "description": role.description if role else "",
        "data_scopes": dict(role.data_scopes) if role else {},
        "field_rights": dict(role.field_rights) if role else {},
    }
    selected = set(role.permissions.values_list("pk", flat=True)) if role else set()
    if request.method == "POST":
        selected = {int(p) for p in request.POST.getlist("permissions") if p.isdigit()}
        rights: dict = {}
        for key, mode in request.POST.items():
            if key.startswith("field:") and mode in MODES and mode != "edit":
                _prefix, label, name = key.split(":", 2)
                rights.setdefault(label, {})[name] = mode
        data = {
            "name": request.POST.get("name", "").strip(),
            "description": request.POST.get("description", "").strip(),
            "data_scopes": {
                d: request.POST.get(f"scope:{d}", DataScope.OWN) for d in DOMAINS
            },
            "field_rights": rights,
        }
        try:
            role = services.role_save(
                actor=request.user,
                role=role,
                data={
                    **data,
                    "permissions": list(Permission.objects.filter(pk__in=selected)),
                },
            )
        except Invalid as exc:
            errors, status = exc.fields, 400
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Role saved."))
            return redirect("org:role-edit", pk=role.pk)
    modules, special = _permission_matrix(selected)
    scopes = [
        {
            "domain": d,
            "label": label,
            "value": data["data_scopes"].get(d, DataScope.OWN),
        }
        for d, label in DOMAINS.items()
    ]
    return render(
        request,
        "org/role_edit.html",
        {
            "role": role,
            "data": data,
            "errors": errors,
            "modules": modules,
            "special": special,
            "scopes": scopes,
            "scope_choices": DataScope.choices,
            "fields": _field_matrix(data["field_rights"]),
            "modes": [
                ("edit", _("Editable")),
                ("readonly", _("Read-only")),
                ("hidden", _("Hidden")),
            ],
            "title": role.name if role else _("New role"),
            "members": User.objects.filter(groups=role).order_by("name")
            if role
            else [],
            "history": history_for(role) if role else [],
        },
        status=status,
    )
