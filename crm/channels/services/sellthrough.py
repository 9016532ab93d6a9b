"""D5 sell-through (销售上报): partners report what they sold to end customers, by portal
form, file upload or the API (one service for all three), and the API keys partners use.

A report is all-or-nothing: every line is checked (product exists and is active,
quantity > 0, amount >= 0, sale date not in the future, region exists) and each error
names its line and field. `reference` is the partner's own report id: the same partner
and reference again with the same lines returns the first report (`replayed` True) and
counts nothing twice; with other lines it is refused (409). Two concurrent submissions
of one reference are settled by the unique constraint (partner, reference): the loser's
insert fails inside a savepoint and it returns (or conflicts with) the winner's report.

End customers: each line's end customer name is linked to a customer record. A live
customer whose name key (crm.customers.naming.name_key, the duplicate check's key) is the
same is reused; otherwise one is created through the customers service, as an end user
in the line's region, owned by the partner's channel manager, who is also the acting
user of that creation (partner users hold no HQ permissions; the manager needs
customers.add_customer). The same name reported twice, in one report or by two
partners, links one customer; on PostgreSQL a transaction-level advisory lock on the
name key keeps two concurrent reports from creating it twice.

API keys: `<prefix>.<secret>` with a 32-byte random secret; only the sha256 of the whole
key is stored, found by its prefix and compared in constant time.
"""

import datetime
import hashlib
import hmac
import json
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from crm.channels.models import ApiKey, Partner, SellThroughLine, SellThroughReport
from crm.channels.portal.access import membership
from crm.channels.selectors.partners_scope import partners_visible
from crm.core.audit import audit_record
from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.core.money import round_money
from crm.core.scopes import authorize
from crm.customers.models import Customer, Region
from crm.customers.naming import name_key
from crm.customers.services import customer_create
from crm.products.models import Product

MONEY_KIND = "order"  # sell-through amounts round like sales orders (Y2)
QUANTITY_PLACES = Decimal("0.0001")
MAX_QUANTITY = Decimal(10) ** 12
REFERENCE_MAX = 64
NAME_MAX = 100
LINE_FIELDS = (
    "sold_on",
    "product",
    "quantity",
    "amount",
    "end_customer_name",
    "region",
)
KEY_PREFIX_BYTES = 4  # 8 hex characters
KEY_SECRET_BYTES = 32


# Lines


def _line_error(errors: dict, index: int, field: str, message: str) -> None:
    errors.setdefault(f"lines.{index}.{field}", []).append(
        _("Line %(n)s: %(message)s") % {"n": index + 1, "message": message}
    )


def _pk_of(value):
    if value is None or value == "":
        return None
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.isdigit() or len(text) > 18:
        raise ValueError
    return int(text)


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        parsed = parse_date(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError
    return parsed


def _as_decimal(value) -> Decimal:
    if isinstance(value, float | bool) or value is None or value == "":
        raise ValueError
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise ValueError
    return number


def clean_lines(lines) -> list[dict]:
    """Each line checked, every error named by line and field (`lines.<i>.<field>`,
    the message saying "Line <i+1>"); products and regions in two queries."""
    if not isinstance(lines, list | tuple) or not lines:
        message = _("A report needs at least one line.")
        raise Invalid(message, fields={"lines": [message]})
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    wanted_products, wanted_regions, raw = set(), set(), []
    for index, line in enumerate(lines):
        line = line if isinstance(line, dict) else {}
        item = {}
        for field, parse in (("product", _pk_of), ("region", _pk_of)):
            try:
                item[field] = parse(line.get(field))
            except (ValueError, TypeError):
                item[field] = -1
        if item["product"]:
            wanted_products.add(item["product"])
        if item["region"]:
            wanted_regions.add(item["region"])
        raw.append((index, line, item))
    products = Product.objects.in_bulk([p for p in wanted_products if p > 0])
    regions = Region.objects.in_bulk([r for r in wanted_regions if r > 0])
    cleaned = []
    for index, line, item in raw:
        out = {}
        try:
            out["sold_on"] = _as_date(line.get("sold_on"))
        except (ValueError, TypeError):
            _line_error(errors, index, "sold_on", _("enter the sale date."))
        else:
            if out["sold_on"] > today:
                _line_error(
                    errors, index, "sold_on", _("a sale cannot be dated in the future.")
                )
        product = products.get(item["product"]) if item["product"] else None
        if not item["product"]:
            _line_error(errors, index, "product", _("choose a product."))
        elif product is None:
            _line_error(errors, index, "product", _("no such product."))
        elif product.status != Product.Status.ACTIVE:
            _line_error(
                errors,
                index,
                "product",
                _("product %(code)s is no longer active.") % {"code": product.code},
            )
        out["product"] = product
        try:
            quantity = _as_decimal(line.get("quantity"))
            if abs(quantity) >= MAX_QUANTITY:
                raise ValueError
            quantity = quantity.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP)
        except (ValueError, TypeError, InvalidOperation):
            _line_error(errors, index, "quantity", _("enter a number."))
        else:
            if quantity <= 0:
                _line_error(
                    errors, index, "quantity", _("the quantity must be greater than 0.")
                )
            out["quantity"] = quantity
        try:
            amount = round_money(_as_decimal(line.get("amount")), MONEY_KIND)
        except (ValueError, TypeError, InvalidOperation, Invalid):
            _line_error(errors, index, "amount", _("enter an amount."))
        else:
            if amount < 0:
                _line_error(
                    errors, index, "amount", _("the amount cannot be negative.")
                )
            out["amount"] = amount
        name = line.get("end_customer_name")
        name = " ".join(str(name).split()) if name not in (None, "") else ""
        if not name:
            _line_error(
                errors, index, "end_customer_name", _("enter the end customer's name.")
            )
        elif len(name) > NAME_MAX:
            _line_error(
                errors,
                index,
                "end_customer_name",
                _("at most %(n)s characters.") % {"n": NAME_MAX},
            )
        out["end_customer_name"] = name
        region = regions.get(item["region"]) if item["region"] else None
        if not item["region"]:
            _line_error(errors, index, "region", _("choose the region."))
        elif region is None:
            _line_error(errors, index, "region", _("no such region."))
        out["region"] = region
        cleaned.append(out)
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    return cleaned


def fingerprint(lines: list[dict]) -> str:
    """The content of cleaned lines, in order, as a sha256: what "the same report" is."""
    canonical = [
        [
            line["sold_on"].isoformat(),
            line["product"].pk,
            str(line["quantity"].normalize()),
            str(line["amount"].normalize()),
            line["end_customer_name"],
            line["region"].pk,
        ]
        for line in lines
    ]
    data = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def clean_reference(reference) -> str:
    reference = " ".join(str(reference or "").split())
    if not reference:
        message = _("Enter the report id.")
        raise Invalid(message, fields={"reference": [message]})
    if len(reference) > REFERENCE_MAX:
        message = _("At most %(n)s characters.") % {"n": REFERENCE_MAX}
        raise Invalid(message, fields={"reference": [message]})
    return reference


def propose_reference(partner: Partner) -> str:
    """A report id for the form to propose: the partner's number, today, a counter."""
    stem = f"{partner.number}-{timezone.localdate():%Y%m%d}-"
    taken = SellThroughReport.objects.filter(
        partner=partner, reference__startswith=stem
    ).count()
    return f"{stem}{taken + 1:03d}"


# End customers


def _lock_name(key: str) -> None:
    """Serialise the creation of one end customer name across transactions (PG)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"end-customer:{key}"]
            )


def end_customer_link(*, partner: Partner, name: str, region, cache: dict) -> Customer:
    """The customer an end customer name stands for: one with the same name key, or a
    new end user created through the customers service (owner: the channel manager)."""
    key = name_key(name) or name.lower()
    if key in cache:
        return cache[key]
    _lock_name(key)
    customer = (
        Customer.objects.filter(
            name_key=key, merged_into__isnull=True, deleted_at__isnull=True
        )
        .order_by("pk")
        .first()
    )
    if customer is None:
        manager = partner.owner
        if manager is None:
            message = _(
                "This partner has no channel manager yet, so new end customers cannot "
                "be recorded. Ask HQ."
            )
            raise Invalid(message)
        try:
            customer = customer_create(
                actor=manager,
                data={
                    "name": name,
                    "type": Customer.Type.END_USER,
                    "status": Customer.Status.ACTIVE,
                    "region": region,
                    "owner": manager,
                    "department": manager.department,
                },
                note=f"sell-through {partner.number}",
            )
        except Forbidden:
            raise Invalid(
                _(
                    "The partner's channel manager may not create customers, so the "
                    "new end customer %(name)s cannot be recorded. Ask HQ."
                )
                % {"name": name}
            ) from None
    cache[key] = customer
    return customer


# Reports


def _check_submitter(actor, partner: Partner, source: str) -> None:
    member = membership(actor)
    if member is not None:
        if member.partner_id != partner.pk:
            raise NotFound(_("Not found."))
        return
    authorize(actor, "channels.add_sellthroughreport")
    if not partners_visible(actor).filter(pk=partner.pk).exists():
        raise NotFound(_("Not found, or outside your data scope."))


def _replay(existing: SellThroughReport, digest: str) -> SellThroughReport:
    if existing.fingerprint != digest:
        message = _(
            "Report %(reference)s was already submitted with different lines. Give a "
            "new report id to report other sales."
        ) % {"reference": existing.reference}
        raise Conflict(message, fields={"reference": [message]})
    existing.replayed = True
    return existing


def sell_through_report_submit(
    *,
    actor,
    partner: Partner,
    reference: str,
    lines: list[dict],
    source: str,
    api_key: ApiKey | None = None,
) -> SellThroughReport:
    """Store a partner's report with its lines and totals, all or nothing. The returned
    report has `replayed` True when the same reference and lines were stored before."""
    _check_submitter(actor, partner, source)
    if source not in SellThroughReport.Source.values:
        raise Invalid(_("Unknown source."), fields={"source": [_("Unknown source.")]})
    if partner.status == Partner.Status.TERMINATED:
        raise Invalid(_("This partner's cooperation has ended."))
    reference = clean_reference(reference)
    cleaned = clean_lines(lines)
    digest = fingerprint(cleaned)
    with transaction.atomic():
        existing = SellThroughReport.objects.filter(
            partner=partner, reference=reference
        ).first()
        if existing is not None:
            return _replay(existing, digest)
        report = SellThroughReport(
            partner=partner,
            reference=reference,
            source=source,
            submitted_by=actor if actor.is_authenticated else None,
            api_key=api_key,
            fingerprint=digest,
            line_count=len(cleaned),
            total_quantity=sum((x["quantity"] for x in cleaned), Decimal("0")),
            total_amount=sum((x["amount"] for x in cleaned), Decimal("0")),
            period_start=min(x["sold_on"] for x in cleaned),
            period_end=max(x["sold_on"] for x in cleaned),
        )
        try:
            # A savepoint: a concurrent twin with the same reference wins the unique
            # constraint; this insert is rolled back and the twin answers.
            with transaction.atomic():
                report.save()
        except IntegrityError:
            existing = SellThroughReport.objects.filter(
                partner=partner, reference=reference
            ).first()
            if existing is None:
                raise
            return _replay(existing, digest)
        customers: dict = {}
        SellThroughLine.objects.bulk_create(
            [
                SellThroughLine(
                    report=report,
                    partner=partner,
                    sold_on=x["sold_on"],
                    product=x["product"],
                    quantity=x["quantity"],
                    amount=x["amount"],
                    end_customer_name=x["end_customer_name"],
                    end_customer=end_customer_link(
                        partner=partner,
                        name=x["end_customer_name"],
                        region=x["region"],
                        cache=customers,
                    ),
                    region=x["region"],
                )
                for x in cleaned
            ]
        )
        audit_record(
            actor=actor, obj=report, action=AuditEvent.Action.CREATE, note=source
        )
    report.replayed = False
    return report


def report_totals_check(report: SellThroughReport) -> dict:
    """The report's stored totals recomputed from its lines (for tests and audits)."""
    return report.lines.aggregate(
        quantity=Sum("quantity"),
        amount=Sum("amount"),
        first=Min("sold_on"),
        last=Max("sold_on"),
    )


# API keys


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_key_admin(actor, partner: Partner) -> None:
    member = membership(actor)
    if member is None or member.partner_id != partner.pk:
        raise NotFound(_("Not found."))
    if not member.is_admin:
        raise Forbidden(_("Only the partner's administrators manage API keys."))


def api_key_create(*, actor, partner: Partner, name: str) -> tuple[ApiKey, str]:
    """A new key for the partner's sell-through API: (the record, the key). The key is
    shown once; only its hash is stored."""
    _check_key_admin(actor, partner)
    name = " ".join(str(name or "").split())
    if not name:
        message = _("Give the key a name.")
        raise Invalid(message, fields={"name": [message]})
    if len(name) > 50:
        message = _("At most %(n)s characters.") % {"n": 50}
        raise Invalid(message, fields={"name": [message]})
    for _attempt in range(5):
        prefix = secrets.token_hex(KEY_PREFIX_BYTES)
        raw = f"{prefix}.{secrets.token_urlsafe(KEY_SECRET_BYTES)}"
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    partner=partner,
                    name=name,
                    prefix=prefix,
                    hashed_key=_hash(raw),
                    created_by=actor,
                )
                audit_record(actor=actor, obj=key, action=AuditEvent.Action.CREATE)
        except IntegrityError:  # the prefix is taken (1 in 4 billion): draw again
            continue
        return key, raw
    raise Conflict(_("Could not create a key; try again."))


def api_key_revoke(*, actor, key: ApiKey) -> ApiKey:
    """A revoked key is refused from now on; revoking twice changes nothing."""
    _check_key_admin(actor, key.partner)
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is None:
            before = {"revoked_at": None}
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at", "updated_at"])
            audit_record(
                actor=actor, obj=locked, action=AuditEvent.Action.UPDATE, before=before
            )
    return locked


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The live key a client sent, its last use stamped; None for a wrong, unknown or
    revoked key."""
    raw = (raw or "").strip()
    prefix, dot, secret = raw.partition(".")
    if not dot or not secret or len(prefix) != KEY_PREFIX_BYTES * 2:
        return None
    key = (
        ApiKey.objects.select_related("partner", "created_by")
        .filter(prefix=prefix)
        .first()
    )
    if key is None or not hmac.compare_digest(key.hashed_key, _hash(raw)):
        return None
    if key.revoked_at is not None:
        return None
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
    return key
