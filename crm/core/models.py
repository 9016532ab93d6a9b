"""Shared kernel models: base fields every business record has, audit, numbering, parameters."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.core.scopes import ScopedQuerySet


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Owned(models.Model):
    """A business record belongs to an employee and a department; data scopes filter on both."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class Versioned(models.Model):
    """Optimistic locking: an update carrying a stale version is refused (409)."""

    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True


class BusinessRecord(TimeStamped, Owned, Versioned):
    class Meta:
        abstract = True


class TreeNode(models.Model):
    """A node of a tree stored with a materialised path (`/1/7/23/`): a subtree is one prefix query."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    path = models.CharField(
        _("path"), max_length=255, db_index=True, editable=False, default=""
    )
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)

    class Meta:
        abstract = True

    def is_descendant_of(self, other: "TreeNode") -> bool:
        return self.path.startswith(other.path) and self.pk != other.pk


class AuditEvent(models.Model):
    """Y7: who did what to which record, when, with before/after values."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        DELETE = "delete", _("Deleted")
        OTHER = "other", _("Other")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=32)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=255)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "-at"], name="audit_target_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def get_action_display(self) -> str:
        """The action's label ("Updated"); `action` has no field choices, so that other
        modules may record their own actions ("approve", "merge") without a migration."""
        try:
            return str(self.Action(self.action).label)
        except ValueError:
            return self.action


class Sequence(models.Model):
    """A database-backed counter for business numbers (KH202611270001…), unique under concurrency."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=16, blank=True)
    padding = models.PositiveSmallIntegerField(_("digits"), default=6)
    next_value = models.PositiveBigIntegerField(_("next value"), default=1)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return f"{self.key} ({self.prefix})"


class SystemParameter(models.Model):
    """Y2: one stored value per registered parameter (see crm.core.params for the registry)."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    value = models.JSONField(_("value"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("system parameter")
        verbose_name_plural = _("system parameters")

    def __str__(self) -> str:
        return self.key


class ExportJob(TimeStamped):
    """A large export running in the background, with progress and a file to download."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    list_key = models.CharField(_("list"), max_length=64)
    params = models.JSONField(_("parameters"), default=dict)
    file_format = models.CharField(_("format"), max_length=8)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("rows"), default=0)
    done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True)
    error = models.TextField(_("error"), blank=True)
    worker = models.CharField(_("worker"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.list_key} #{self.pk}"

    @property
    def percent(self) -> int:
        return (
            100
            if self.status == self.Status.DONE
            else int(100 * self.done / self.total)
            if self.total
            else 0
        )


class SpecialPermissions(models.Model):
    """Holder of Y5 special permissions (特殊权限) that belong to no single model."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("special permission")
        permissions = [
            ("export_data", _("Export data")),
            ("merge_records", _("Merge records")),
            ("delete_records", _("Delete records")),
            ("approve_discount", _("Approve discounts")),
            ("manage_system", _("Manage system settings")),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class ImportJob(TimeStamped):
    """C4: one file imported through a registered ImportSpec: upload, column mapping, dry
    run, commit. The file lives in the default storage, so a worker on another machine can
    read it; large files are checked and imported in the background."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    spec_key = models.CharField(_("import"), max_length=64)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=8)
    headers = models.JSONField(_("headers"), default=list)
    samples = models.JSONField(_("first rows"), default=list)  # for the mapping step
    mapping = models.JSONField(_("column mapping"), default=list)
    match_key = models.CharField(_("match key"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED
    )
    total = models.PositiveIntegerField(_("rows"), default=0)
    done = models.PositiveIntegerField(_("rows processed"), default=0)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    report = models.FileField(_("row results"), upload_to="imports/%Y/%m/", blank=True)
    error = models.TextField(_("error"), blank=True)
    worker = models.CharField(_("worker"), max_length=128, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.spec_key} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status in (self.Status.CHECKED, self.Status.DONE):
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class Notification(models.Model):
    """X4: a message to one employee, shown in the app (bell, notifications page) and
    optionally sent by e-mail. A `dedupe_key` makes it idempotent per recipient, so a
    daily job that runs twice never notifies twice."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_dedupe_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"], name="notification_recipient_idx"
            ),
            # The bell counts a user's unread notifications on every page: a partial
            # index holds only the unread rows (PostgreSQL and SQLite both have them).
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class CalendarFeed(models.Model):
    """X5: a user's secret iCalendar address. The token is the only credential of the
    feed (calendar clients cannot log in); regenerating it replaces the row's token, so
    the old address stops working at once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user} calendar"
