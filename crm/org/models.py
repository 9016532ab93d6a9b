"""Y3 departments, Y4 employees, Y5 roles; company announcements (S10)."""

from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.models import TimeStamped, TreeNode, Versioned
from crm.core.scopes import DataScope, ScopedQuerySet


class Department(TreeNode, TimeStamped):
    class Kind(models.TextChoices):
        GROUP = "group", _("Group")
        HQ = "hq", _("Headquarters")
        FACTORY = "factory", _("Factory")
        SUBSIDIARY = "subsidiary", _("Subsidiary")
        BRANCH = "branch", _("Branch")
        OFFICE = "office", _("Office")
        WORKSHOP = "workshop", _("Workshop")
        SUB_SUBSIDIARY = "sub_subsidiary", _("Second-level subsidiary")
        WORKSHOP_GROUP = "workshop_group", _("Workshop group")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER
    )
    code = models.CharField(_("code"), max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name


class EmployeeManager(UserManager.from_queryset(ScopedQuerySet)):
    pass


class User(AbstractUser):
    """Y4: every CRM user is an employee in a department, with a supervisor."""

    name = models.CharField(_("full name"), max_length=50, blank=True)
    employee_no = models.CharField(_("employee number"), max_length=32, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employees",
    )
    supervisor = models.ForeignKey(
        "self",
        verbose_name=_("supervisor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subordinates",
    )
    position = models.CharField(_("position"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    phone = models.CharField(_("office phone"), max_length=32, blank=True)

    scope_domain = "org"
    scope_owner_field = "id"  # an employee "owns" their own record
    restrictable_fields = ("mobile", "phone", "email")

    objects = EmployeeManager()

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["department__path", "username"]

    def __str__(self) -> str:
        return self.name or self.username

    def get_full_name(self) -> str:
        return self.name or super().get_full_name() or self.username

    # Data scopes and field rights, computed once per request-bound user object.

    @cached_property
    def _roles(self) -> list["Role"]:
        return list(Role.objects.filter(user=self))

    def data_scopes(self, domain: str) -> set[str]:
        return {role.data_scopes.get(domain, DataScope.OWN) for role in self._roles}

    def field_modes(self, label: str) -> dict[str, str]:
        """Per restricted field, the widest mode any role grants (edit > readonly > hidden)."""
        order = {"hidden": 0, "readonly": 1, "edit": 2}
        roles = self._roles
        if not roles:
            return {}
        names = {n for r in roles for n in r.field_rights.get(label, {})}
        modes = {}
        for name in names:
            best = max(
                (r.field_rights.get(label, {}).get(name, "edit") for r in roles),
                key=order.get,
            )
            if best != "edit":
                modes[name] = best
        return modes

    def subordinate_ids(self) -> list[int]:
        """This user and everybody below them in the supervisor chain."""
        return self._subordinate_ids

    @cached_property
    def _subordinate_ids(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for pk, sup in User.objects.exclude(supervisor=None).values_list(
            "pk", "supervisor_id"
        ):
            children.setdefault(sup, []).append(pk)
        seen, stack = {self.pk}, [self.pk]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return sorted(seen)

    def department_subtree_ids(self) -> list[int]:
        return self._department_subtree_ids

    @cached_property
    def _department_subtree_ids(self) -> list[int]:
        if not self.department_id:
            return []
        return list(
            Department.objects.filter(
                path__startswith=self.department.path
            ).values_list("pk", flat=True)
        )


class Role(Group):
    """Y5: a bundle of functional and special permissions, data scopes per domain, field rights.

    A role is a Django group, so `user.has_perm` sees its permissions natively.
    """

    description = models.CharField(_("description"), max_length=255, blank=True)
    data_scopes = models.JSONField(_("data scopes"), default=dict, blank=True)
    field_rights = models.JSONField(_("field rights"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def scope_for(self, domain: str) -> str:
        return self.data_scopes.get(domain, DataScope.OWN)


class AnnouncementQuerySet(models.QuerySet):
    def published(self, at=None):
        """What everybody sees: published, and not scheduled for later."""
        return self.filter(is_published=True, published_at__lte=at or timezone.now())


class Announcement(TimeStamped, Versioned):
    """S10: company news (公司公告) for every employee; publishers write and publish them.
    Pinned ones come first, then the newest."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    is_pinned = models.BooleanField(
        _("pinned"), default=False, help_text=_("Pinned announcements are shown first.")
    )
    is_published = models.BooleanField(_("published"), default=False, editable=False)
    published_at = models.DateTimeField(
        _("published at"),
        null=True,
        blank=True,
        help_text=_("Leave empty to publish at once; a later time schedules it."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = AnnouncementQuerySet.as_manager()

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-is_pinned", "-published_at", "-pk"]
        indexes = [
            models.Index(
                fields=["-is_pinned", "-published_at"],
                condition=Q(is_published=True),
                name="announcement_published_idx",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_live(self) -> bool:
        """Published and not scheduled for later: everybody sees it."""
        return bool(
            self.is_published
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )
