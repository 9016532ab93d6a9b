"""X4 notification centre: in-app notifications (the bell) and their e-mails.

Any module notifies an employee with one call:

    notify(recipient=rep, title=_("Birthday of 张三 on 3 March"), body=..., url=contact_url,
           kind="customers.birthday", dedupe_key=f"birthday:{contact.pk}:2027")

The notification is stored in the caller's transaction; its e-mail is sent by a Celery task
after the commit (never for a rolled-back change). A `dedupe_key` is unique per recipient:
a daily job that runs twice, or two workers running it at once, notify only once.

A user only ever sees and marks their own notifications: every read below filters on the
recipient, and another user's notification is "not found" (404), as records outside a
data scope are.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.models import Notification
from crm.core.params import Param, get_param, register

register(
    Param(
        "site_url",
        _l("Address of the CRM"),
        str,
        "http://127.0.0.1:8000",
        help=_l(
            "The address people open the CRM at (https://crm.example.com); "
            "links in e-mails start with it."
        ),
    ),
)


def _safe_url(url: str) -> str:
    """Only links inside the CRM (a path like /customers/12/): a notification must not
    send its reader to another site."""
    url = (url or "").strip()
    if not url.startswith("/") or not url_has_allowed_host_and_scheme(
        url, allowed_hosts=None
    ):
        return ""
    return url[:500]


def notify(
    *,
    recipient,
    title: str,
    body: str = "",
    url: str = "",
    kind: str = "",
    dedupe_key: str | None = None,
    email: bool = True,
) -> Notification | None:
    """Notify one employee in the app and, after the commit, by e-mail.

    Returns the new notification, or None when there is nothing to do: the recipient is
    missing or inactive, or a notification with this `dedupe_key` was sent before.
    """
    if recipient is None or not recipient.is_active:
        return None
    values = {
        "kind": kind[:64],
        "title": str(title)[:200],
        "body": str(body),
        "url": _safe_url(url),
    }
    key = (dedupe_key or "")[:200]
    if key:
        if Notification.objects.filter(recipient=recipient, dedupe_key=key).exists():
            return None
        try:
            # A savepoint: a concurrent duplicate fails here without breaking the
            # caller's transaction.
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=recipient, dedupe_key=key, **values
                )
        except IntegrityError:
            return None
    else:
        notification = Notification.objects.create(recipient=recipient, **values)
    if email and recipient.email:
        from crm.core.tasks import send_notification_email

        pk = notification.pk
        transaction.on_commit(lambda: send_notification_email.delay(pk))
    return notification


def notification_email_send(notification_id: int) -> bool:
    """Send a notification's e-mail once; False when there is nothing to send (it was
    rolled back, sent already, or the recipient has no address any more)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.recipient.email:
            return False
        lines = [notification.body] if notification.body else []
        if notification.url:
            base = str(get_param("site_url")).rstrip("/")
            lines.append(f"{base}{notification.url}")
        send_mail(
            subject=notification.title,
            message="\n\n".join(lines) or notification.title,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.recipient.email],
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


# Reads: always the user's own notifications.


def notification_list(*, actor, unread: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=actor)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def notification_get(*, actor, pk) -> Notification:
    """One of the user's notifications; anybody else's is not found (404)."""
    if not is_id(pk):
        raise NotFound(_("Notification not found."))
    try:
        return Notification.objects.get(pk=int(pk), recipient=actor)
    except Notification.DoesNotExist:
        raise NotFound(_("Notification not found.")) from None


def unread_count(user) -> int:
    """The bell's number: one count over the partial index of unread rows."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# Writes


def notification_mark_read(*, actor, notification: Notification) -> Notification:
    """Mark one of the user's own notifications read (again: a no-op)."""
    if notification.recipient_id != actor.pk:
        raise NotFound(_("Notification not found."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notification_mark_all_read(*, actor) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )
