"""Reads for the organisation module, all through the data scope."""

import django_filters
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.core.scopes import authorize, can
from crm.org.models import Announcement, Department, Role, User


def department_tree_list(*, actor, include_inactive: bool = True):
    """The whole organisation tree, for holders of org.view_department (it is how people find each other)."""
    authorize(actor, "org.view_department")
    qs = Department.objects.all()
    return qs if include_inactive else qs.filter(is_active=True)


def department_get(*, actor, pk) -> Department:
    authorize(actor, "org.view_department")
    try:
        return Department.objects.get(pk=pk)
    except (Department.DoesNotExist, ValueError):
        raise NotFound(_("Department not found.")) from None


@register
class DepartmentList(ListSpec):
    """The departments as rows: the department pages' permission (org.view_department),
    title and export."""

    key = "org.department"
    model = Department
    title = _("Departments")
    columns = [
        Column("name", _("name"), sort="name"),
        Column("kind", _("kind"), sort="kind", choices=True),
        Column("code", _("code"), sort="code"),
        Column("parent.name", _("parent"), sort="parent__path", field="parent"),
        Column("phone", _("phone")),
        Column("is_active", _("active"), sort="is_active"),
    ]
    search_fields = ("name", "code")
    default_sort = "path"
    select_related = ("parent",)

    def base_queryset(self, user):
        # The whole tree, as department_tree_list(); pages and exports over this list
        # check org.view_department (view_perm) before they read.
        return Department.objects.all()


class EmployeeFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(
        label=_("department"), queryset=Department.objects.all(), method="in_department"
    )
    is_active = django_filters.BooleanFilter(label=_("active"))
    role = django_filters.ModelChoiceFilter(
        label=_("role"), queryset=Role.objects.all(), field_name="groups"
    )

    class Meta:
        model = User
        fields = ["department", "is_active", "role"]

    def in_department(self, qs, name, value):
        return qs.filter(department__path__startswith=value.path) if value else qs


@register
class EmployeeList(ListSpec):
    key = "org.employee"
    model = User
    title = _("Employees")
    columns = [
        Column("username", _("username"), sort="username", link=True),
        Column("name", _("full name"), sort="name"),
        Column("employee_no", _("employee number"), sort="employee_no"),
        Column(
            "department.name",
            _("department"),
            sort="department__path",
            field="department",
        ),
        Column("position", _("position"), sort="position"),
        Column("supervisor", _("supervisor"), field="supervisor"),
        Column("mobile", _("mobile")),
        Column("email", _("e-mail")),
        Column("is_active", _("active"), sort="is_active"),
    ]
    search_fields = ("username", "name", "employee_no", "mobile", "email", "position")
    filterset_class = EmployeeFilter
    default_sort = "department__path"
    select_related = ("department", "supervisor")
    detail_url_name = "org:employee-detail"


@register
class RoleList(ListSpec):
    key = "org.role"
    model = Role
    title = _("Roles")
    columns = [
        Column("name", _("name"), sort="name", link=True),
        Column("description", _("description")),
        Column("updated_at", _("updated at"), sort="updated_at"),
    ]
    search_fields = ("name", "description")
    default_sort = "name"
    detail_url_name = "org:role-edit"

    def base_queryset(self, user):
        return Role.objects.all()


def employee_choices(*, actor):
    return (
        User.objects.filter(is_active=True)
        .select_related("department")
        .order_by("department__path", "name")
    )


# Announcements (S10): company news for everybody; drafts only for their publishers.


def can_publish_announcements(user) -> bool:
    return can(user, "org.add_announcement") or can(user, "org.change_announcement")


def announcement_queryset(*, actor):
    """Published announcements for everybody; publishers also see drafts and scheduled
    ones. Pinned first, then the newest."""
    qs = Announcement.objects.select_related("author")
    if not can_publish_announcements(actor):
        qs = qs.published()
    return qs.order_by("-is_pinned", F("published_at").desc(nulls_first=True), "-pk")


def announcement_get(*, actor, pk) -> Announcement:
    """One announcement the user may read; a draft is "not found" for non-publishers."""
    if not is_id(pk):
        raise NotFound(_("Announcement not found."))
    try:
        return announcement_queryset(actor=actor).get(pk=int(pk))
    except Announcement.DoesNotExist:
        raise NotFound(_("Announcement not found.")) from None


def recent_announcements(*, limit: int):
    """The newest published announcements, pinned first: the home page's news."""
    return list(
        Announcement.objects.published()
        .select_related("author")
        .order_by("-is_pinned", "-published_at", "-pk")[:limit]
    )
