"""D1 partner writes: partners (number from the sequence, versioned edits, a parent that
makes no cycle, credit limit ≥ 0), tiers, territories (exclusive ones never overlap
another partner's in region and time) and portal users (D3).

Every service authorises, validates (field errors a form or API client can show), runs in
one transaction, locks what a race could break and writes the audit trail (Y7)."""

import datetime
from decimal import Decimal

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from crm.channels.models import Partner, PartnerUser, Territory, Tier
from crm.channels.portal.access import membership
from crm.channels.selectors.partners_scope import partners_visible
from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.core.numbering import next_number
from crm.core.scopes import authorize
from crm.core.services import record_create, record_update
from crm.core.trees import tree_move
from crm.customers.models import Region
from crm.org.models import User

SEQUENCE = "channels.partner"

PARTNER_FIELDS = (
    "name",
    "short_name",
    "kind",
    "tier",
    "status",
    "parent",
    "region",
    "credit_limit",
    "owner",
    "contact_name",
    "phone",
    "email",
    "address",
    "tax_number",
    "joined_on",
    "notes",
)
TIER_FIELDS = ("name", "rank", "description")


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)


def _strip(data: dict, allowed) -> dict:
    return {
        k: v.strip() if isinstance(v, str) else v
        for k, v in data.items()
        if k in allowed
    }


# Partners


def _check_partner(actor, data: dict, obj: Partner | None = None) -> None:
    errors: dict[str, list[str]] = {}
    if "name" in data and not data["name"]:
        errors["name"] = [_("This field is required.")]
    limit = data.get("credit_limit")
    if limit is not None and Decimal(limit) < 0:
        errors["credit_limit"] = [_("The credit limit cannot be negative.")]
    owner = data.get("owner")
    if owner is not None and (
        not owner.is_active or PartnerUser.objects.filter(user=owner).exists()
    ):
        errors["owner"] = [_("The channel manager must be an active HQ employee.")]
    parent = data.get("parent")
    if parent is not None:
        if not partners_visible(actor).filter(pk=parent.pk).exists():
            errors["parent"] = [_("Choose a partner within your data scope.")]
        elif obj is not None and (
            parent.pk == obj.pk or parent.path.startswith(obj.path)
        ):
            errors["parent"] = [
                _(
                    "%(parent)s is this partner itself or buys from it: choose a "
                    "parent outside this partner's own network."
                )
                % {"parent": parent}
            ]
    _refuse(errors)


def _set_regions_served(partner: Partner, regions) -> None:
    if regions is not None:
        partner.regions_served.set(regions)


def _free_number() -> str:
    """The sequence's next number not yet taken (partners imported or entered with
    their own numbers may already hold some)."""
    for _attempt in range(1000):
        number = next_number(SEQUENCE)
        if not Partner.objects.filter(number=number).exists():
            return number
    raise Conflict(_("No free partner number: check the number sequence."))


def partner_create(*, actor, data: dict) -> Partner:
    """A new partner gets the next partner number (QD…). Its channel manager is the one
    given, else the creator; the partner sits in the manager's department."""
    authorize(actor, "channels.add_partner")
    regions = data.get("regions_served")
    data = _strip(data, PARTNER_FIELDS)
    if data.get("owner") is None:
        data["owner"] = actor
    _check_partner(actor, data)
    data["department"] = data["owner"].department
    with transaction.atomic():
        data["number"] = _free_number()
        partner = record_create(
            actor=actor, model=Partner, data=data, perm="channels.add_partner"
        )
        _set_regions_served(partner, regions)
    return partner


def partner_update(*, actor, obj: Partner, data: dict, version=None) -> Partner:
    """Edit a partner carrying the version it was read at (stale: 409). A new parent may
    not be the partner itself nor one below it (no cycles); the subtree moves along."""
    authorize(actor, "channels.change_partner")
    regions = data.get("regions_served")
    data = _strip(data, PARTNER_FIELDS)
    if "owner" in data and data["owner"] is None:
        data.pop("owner")
    with transaction.atomic():
        current = Partner.objects.select_for_update().get(pk=obj.pk)
        _check_partner(actor, data, current)
        if "owner" in data:
            data["department"] = data["owner"].department
        old_parent = current.parent_id
        saved = record_update(
            actor=actor,
            obj=current,
            data=data,
            perm="channels.change_partner",
            version=version,
        )
        if "parent" in data and saved.parent_id != old_parent:
            tree_move(saved, data["parent"])
        _set_regions_served(saved, regions)
    return saved


# Tiers


def _check_tier(data: dict, obj: Tier | None = None) -> None:
    name = data.get("name")
    if name is not None:
        others = Tier.objects.filter(name=name)
        if obj is not None:
            others = others.exclude(pk=obj.pk)
        if not name:
            _refuse({"name": [_("This field is required.")]})
        if others.exists():
            _refuse({"name": [_("A tier with this name exists already.")]})


def tier_create(*, actor, data: dict) -> Tier:
    authorize(actor, "channels.add_tier")
    data = _strip(data, TIER_FIELDS)
    _check_tier(data)
    return record_create(actor=actor, model=Tier, data=data, perm="channels.add_tier")


def tier_update(*, actor, obj: Tier, data: dict, version=None) -> Tier:
    authorize(actor, "channels.change_tier")
    data = _strip(data, TIER_FIELDS)
    _check_tier(data, obj)
    return record_update(actor=actor, obj=obj, data=data, perm="channels.change_tier")


# Territories


def _province_ids(region: Region) -> list[int]:
    return [int(region.path.strip("/").split("/")[0])]


def _lock_provinces(region: Region) -> None:
    """Two exclusive territories can only clash inside one province: both transactions
    lock that province's row, so the second waits and then sees the first's territory."""
    list(
        Region.objects.select_for_update()
        .filter(pk__in=_province_ids(region))
        .values_list("pk", flat=True)
    )


def _clashes(
    *,
    partner: Partner,
    region: Region,
    starts_on: datetime.date,
    ends_on: datetime.date | None,
    exclude_pk=None,
):
    """Other partners' exclusive territories whose region is this one, inside it or
    around it, for a period overlapping [starts_on, ends_on] (None: open-ended)."""
    ancestors = [int(code) for code in region.path.strip("/").split("/")]
    qs = (
        Territory.objects.filter(exclusive=True)
        .exclude(partner=partner)
        .filter(Q(region__path__startswith=region.path) | Q(region_id__in=ancestors))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
    )
    if ends_on is not None:
        qs = qs.filter(starts_on__lte=ends_on)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.select_related("partner", "region").order_by("starts_on")


def _refuse_clash(territory: Territory) -> None:
    other = _clashes(
        partner=territory.partner,
        region=territory.region,
        starts_on=territory.starts_on,
        ends_on=territory.ends_on,
        exclude_pk=territory.pk,
    ).first()
    if other is None:
        return
    message = _(
        "%(partner)s holds %(region)s exclusively from %(start)s until %(end)s: "
        "exclusive territories of two partners may not overlap."
    ) % {
        "partner": other.partner,
        "region": other.region,
        "start": other.starts_on.isoformat(),
        "end": other.ends_on.isoformat() if other.ends_on else _("open-ended"),
    }
    raise Conflict(message, fields={"region": [message]})


def _check_dates(starts_on, ends_on) -> None:
    if starts_on is None:
        _refuse({"starts_on": [_("This field is required.")]})
    if ends_on is not None and ends_on < starts_on:
        _refuse({"ends_on": [_("The end date cannot be before the start date.")]})


def territory_add(*, actor, partner: Partner, data: dict) -> Territory:
    """Give a partner a territory. An exclusive one is refused (409, naming the other
    partner, region and dates) while another partner holds an exclusive territory on
    the same region, one inside it or one around it, for an overlapping period."""
    authorize(actor, "channels.add_territory")
    if not partners_visible(actor).filter(pk=partner.pk).exists():
        raise NotFound(_("Partner not found."))
    region = data.get("region")
    if region is None:
        _refuse({"region": [_("This field is required.")]})
    starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
    _check_dates(starts_on, ends_on)
    territory = Territory(
        partner=partner,
        region=region,
        exclusive=bool(data.get("exclusive", True)),
        starts_on=starts_on,
        ends_on=ends_on,
    )
    with transaction.atomic():
        if territory.exclusive:
            _lock_provinces(region)
            _refuse_clash(territory)
        territory.save()
        audit_record(actor=actor, obj=territory, action=AuditEvent.Action.CREATE)
    return territory


def territory_end(
    *, actor, territory: Territory, ends_on: datetime.date | None
) -> Territory:
    """Set the last day of a territory (None: open-ended again). A later end is checked
    against the other partners' exclusive territories like a new one."""
    authorize(actor, "channels.change_territory")
    with transaction.atomic():
        _lock_provinces(territory.region)
        locked = Territory.objects.select_for_update().get(pk=territory.pk)
        _check_dates(locked.starts_on, ends_on)
        before = snapshot(locked)
        locked.ends_on = ends_on
        if locked.exclusive:
            _refuse_clash(locked)
        locked.save(update_fields=["ends_on", "updated_at"])
        audit_record(
            actor=actor, obj=locked, action=AuditEvent.Action.UPDATE, before=before
        )
    return locked


def territory_remove(*, actor, territory: Territory) -> None:
    """Delete a territory entered by mistake (ending it keeps the history)."""
    authorize(actor, "channels.delete_territory")
    with transaction.atomic():
        audit_record(
            actor=actor,
            obj=territory,
            action=AuditEvent.Action.DELETE,
            before=snapshot(territory),
        )
        territory.delete()


# Portal users (D3)


def _check_may_manage(actor, partner: Partner) -> None:
    """HQ: channels.manage_partnerusers and the partner in scope. A partner user: an
    admin of this very partner. Anyone else: another partner's users are not found."""
    member = membership(actor)
    if member is not None:
        if member.partner_id != partner.pk:
            raise NotFound(_("User not found."))
        if not member.is_admin or not actor.is_active:
            raise Forbidden(_("Only a partner administrator manages users."))
        return
    authorize(actor, "channels.manage_partnerusers")
    if not partners_visible(actor).filter(pk=partner.pk).exists():
        raise NotFound(_("Partner not found."))


def _check_password(password: str, user=None, field: str = "password") -> None:
    if not password:
        _refuse({field: [_("This field is required.")]})
    try:
        validate_password(password, user)
    except ValidationError as exc:
        _refuse({field: [str(m) for m in exc.messages]})


def partner_user_create(*, actor, partner: Partner, data: dict) -> PartnerUser:
    """A portal login for `partner`: no department and no roles, so it can never see HQ
    data; its scope is the partner. `is_admin` lets it manage the partner's users."""
    _check_may_manage(actor, partner)
    username = (data.get("username") or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = [_("This field is required.")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This username is taken.")]
    _refuse(errors)
    user = User(
        username=username,
        name=(data.get("name") or "").strip()[:50],
        email=(data.get("email") or "").strip(),
        department=None,
        is_staff=False,
        is_superuser=False,
    )
    _check_password(data.get("password") or "", user)
    user.set_password(data["password"])
    with transaction.atomic():
        user.save()
        member = PartnerUser.objects.create(
            user=user, partner=partner, is_admin=bool(data.get("is_admin"))
        )
        audit_record(actor=actor, obj=member, action=AuditEvent.Action.CREATE)
    return member


def _change_member(actor, member: PartnerUser, note: str, change) -> PartnerUser:
    _check_may_manage(actor, member.partner)
    with transaction.atomic():
        locked = (
            PartnerUser.objects.select_for_update()
            .select_related("user", "partner")
            .get(pk=member.pk)
        )
        before = {**snapshot(locked), "is_active": locked.user.is_active}
        change(locked)
        after_user = locked.user
        audit = audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note=note,
        )
        if before["is_active"] != after_user.is_active:
            audit.changes["is_active"] = [before["is_active"], after_user.is_active]
            audit.save(update_fields=["changes"])
    return locked


def _not_self(actor, member: PartnerUser, message: str) -> None:
    if member.user_id == actor.pk:
        raise Invalid(message)


def partner_user_deactivate(*, actor, member: PartnerUser) -> PartnerUser:
    """The login stops working at once; nobody deactivates themselves."""
    _not_self(actor, member, _("You cannot deactivate yourself."))

    def change(locked):
        locked.user.is_active = False
        locked.user.save(update_fields=["is_active"])

    return _change_member(actor, member, "deactivated", change)


def partner_user_activate(*, actor, member: PartnerUser) -> PartnerUser:
    def change(locked):
        locked.user.is_active = True
        locked.user.save(update_fields=["is_active"])

    return _change_member(actor, member, "activated", change)


def partner_user_set_admin(
    *, actor, member: PartnerUser, is_admin: bool
) -> PartnerUser:
    """Grant or take away partner administration; an admin keeps their own."""
    if not is_admin:
        _not_self(actor, member, _("You cannot remove your own administrator rights."))

    def change(locked):
        locked.is_admin = bool(is_admin)
        locked.save(update_fields=["is_admin", "updated_at"])

    return _change_member(actor, member, "admin flag", change)


def partner_user_reset_password(
    *, actor, member: PartnerUser, password: str
) -> PartnerUser:
    """Set a new password the admin passes on to the user."""
    _check_password(password, member.user)

    def change(locked):
        locked.user.set_password(password)
        locked.user.save(update_fields=["password"])

    return _change_member(actor, member, "password reset", change)
