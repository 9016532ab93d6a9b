"""Y5 for channel records: an HQ user sees the partners their "channels" data scope
grants (a channel manager their own partners, a branch its department tree); every other
channel record is visible through its partner. Partner users see nothing here: the
portal reads by `request.partner` instead (crm.channels.portal.access)."""

from django.db.models import QuerySet

from crm.channels.models import Partner


def partners_visible(user) -> QuerySet[Partner]:
    return Partner.objects.visible_to(user)


def of_visible_partners(queryset: QuerySet, user, field: str = "partner") -> QuerySet:
    """Narrow any partner-linked queryset to the partners the HQ user may see: one
    `partner_id IN (subquery)` on an indexed column, no join of the big tables."""
    return queryset.filter(**{f"{field}__in": partners_visible(user).values("pk")})
