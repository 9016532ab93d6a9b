"""Writes for customers (C1, C3) and contacts (C2).

Every service authorises, validates (field errors a form or API client can show), runs in
one transaction and writes the audit trail (Y7). HTML views, the API and imports call these.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Forbidden, Invalid, invalid_from_django
from crm.core.fieldrights import field_rights
from crm.core.models import AuditEvent
from crm.core.numbering import next_number, next_numbers
from crm.core.relations import protected_references, repoint_references
from crm.core.scopes import authorize
from crm.core.services import (
    record_build,
    record_create,
    record_create_many,
    record_delete,
    record_update,
)
from crm.customers.models import Contact, Customer
from crm.customers.naming import name_initials, name_key
from crm.customers.selectors import customer_queryset

SEQUENCE = "customers.customer"
COPY_FIELDS = (
    "address",
    "main_phone",
    "postcode",
    "email",
    "region",
    "industry",
    "level",
    "type",
    "status",
    "credit_rating",
    "credit_limit",
    "parent",
    "finance_phone",
    "homepage",
    "notes",
)
# A customer's editable fields: the API input, and what a merge may take from any customer.
MERGE_FIELDS = (
    "name",
    "mnemonic",
    "credit_code",
    "address",
    "main_phone",
    "postcode",
    "email",
    "region",
    "industry",
    "level",
    "type",
    "status",
    "credit_rating",
    "credit_limit",
    "parent",
    "finance_phone",
    "homepage",
    "notes",
    "registered_at",
    "owner",
    "department",
)
# The audit trail stays with the merged customers (their tombstones keep their history).
MERGE_KEEP = frozenset({"core.auditevent"})
MAX_DEPTH = 100
EARLIEST_REGISTRATION = 1900


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)


def _full_clean(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise invalid_from_django(exc) from None


# Customers


def _credit_code_taken(code: str, exclude_pk=None) -> bool:
    clash = Customer.objects.filter(credit_code=code, merged_into__isnull=True)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    return clash.exists()


def _ancestor_ids(customer_pk) -> list[int]:
    """The chain of parent ids above a customer, nearest first (stops at a loop)."""
    chain: list[int] = []
    current = customer_pk
    for _step in range(MAX_DEPTH):
        current = (
            Customer.objects.filter(pk=current)
            .values_list("parent_id", flat=True)
            .first()
        )
        if current is None or current in chain:
            break
        chain.append(current)
    return chain


def _check_parent(*, actor, parent, obj=None, forbidden=()) -> list[str]:
    """A parent company is a live customer the user can see, and not the customer itself
    or one of its subsidiaries (no cycle in the hierarchy)."""
    if parent is None:
        return []
    own = {obj.pk} if obj is not None and obj.pk else set()
    own |= set(forbidden)
    if parent.pk in own or own & set(_ancestor_ids(parent.pk)):
        return [_("A customer cannot be under itself or one of its subsidiaries.")]
    if not customer_queryset(actor=actor).filter(pk=parent.pk).exists():
        return [_("Choose a parent company you can see.")]
    return []


def _derive(data: dict, obj: Customer | None = None) -> dict:
    """Trim text, upper-case the credit code, keep the mnemonic, initials and name key
    in step with the name (an edited mnemonic is kept)."""
    data = dict(data)
    for name, value in list(data.items()):
        if isinstance(value, str) and name not in ("notes",):
            data[name] = value.strip()
    if "credit_code" in data:
        data["credit_code"] = (data["credit_code"] or "").upper()
    name = data.get("name", obj.name if obj is not None else "")
    if "name" in data or "mnemonic" in data:
        initials = name_initials(name)  # pinyin once per name: imports derive many
    if "name" in data:
        data["name_initials"] = initials
        data["name_key"] = name_key(name)
    if "name" in data or "mnemonic" in data:
        old_auto = name_initials(obj.name) if obj is not None else ""
        current = obj.mnemonic if obj is not None else ""
        given = data.get("mnemonic", current)
        # The mnemonic follows the name unless someone typed their own.
        follows = "name" in data and given == current and current in ("", old_auto)
        if not given or follows:
            data["mnemonic"] = initials
    return data


def _check_customer(
    *, actor, data: dict, obj: Customer | None = None, code_taken=_credit_code_taken
) -> None:
    """The rules of a customer's fields; `code_taken(code, exclude_pk)` tells whether
    another live customer has a credit code (CustomerBatch answers from memory)."""
    errors: dict[str, list[str]] = {}
    limit = data.get("credit_limit")
    if limit is not None and limit < 0:
        errors["credit_limit"] = [_("A credit limit cannot be negative.")]
    code = data.get("credit_code")
    if code and code_taken(code, obj.pk if obj else None):
        errors["credit_code"] = [_("Another customer already has this credit code.")]
    if "parent" in data:
        changed = obj is None or (data["parent"] and data["parent"].pk) != obj.parent_id
        if changed:
            problems = _check_parent(actor=actor, parent=data["parent"], obj=obj)
            if problems:
                errors["parent"] = problems
    registered = data.get("registered_at")
    if registered is not None and not (
        EARLIEST_REGISTRATION <= registered.year <= timezone.now().year + 1
    ):
        # Before 1900 the time zone database gives local mean time (+08:05:43), which no
        # ISO 8601 client can read back; no customer was registered then anyway.
        errors["registered_at"] = [
            _("Enter a registration time between %(first)s and next year.")
            % {"first": EARLIEST_REGISTRATION}
        ]
    if "owner" in data and data["owner"] is not None and not data.get("department"):
        data["department"] = data["owner"].department
    _refuse(errors)


def _customer_new(*, actor, data: dict, code_taken=_credit_code_taken) -> dict:
    """The rules for a new customer, before anything is written: customer_create and
    CustomerBatch share them."""
    authorize(actor, "customers.add_customer")
    if data.get("owner") not in (None, actor):
        authorize(actor, "customers.assign_customer")  # creating it for someone else
    data = _derive(data)
    _check_customer(actor=actor, data=data, code_taken=code_taken)
    return data


def customer_create(*, actor, data: dict, note: str = "") -> Customer:
    """A new customer gets the next customer number; the mnemonic comes from the name
    unless given; a credit code is unique; the parent company makes no cycle."""
    data = _customer_new(actor=actor, data=data)
    try:
        with transaction.atomic():
            # Taken inside the transaction: a refused customer gives its number back.
            data["number"] = next_number(SEQUENCE)
            return record_create(
                actor=actor,
                model=Customer,
                data=data,
                perm="customers.add_customer",
                note=note,
            )
    except IntegrityError:
        if data.get("credit_code") and _credit_code_taken(data["credit_code"]):
            _refuse(
                {"credit_code": [_("Another customer already has this credit code.")]}
            )
        raise


class CustomerBatch:
    """New customers with their contacts, created in batches (the C4 import's bulk path).

    `customer` and `contact` check one record by the rules of customer_create and
    contact_create (same errors, same derived fields), without a query per record:
    credit codes are looked up for a whole batch (`prefetch`), references are the
    records given. `add` keeps a checked customer with its contacts; `write` inserts
    what was added, all or nothing: numbers taken together in row order, customers,
    contacts and their audit rows in bulk. The database's constraints (unique number
    and credit code, checks) refuse at the insert whatever changed meanwhile: the
    caller then creates the rows one by one, which names the refused one.
    """

    def __init__(self, *, actor):
        self.actor = actor
        self.pending: list[tuple[Customer, list[Contact]]] = []
        self._pending_codes: set[str] = set()
        self._code_in_db: dict[str, bool] = {}  # credit code -> a live customer has it

    def prefetch(self, codes) -> None:
        """Look up which of these credit codes live customers have, in one query."""
        wanted = {str(c).strip().upper() for c in codes if c} - set(self._code_in_db)
        if not wanted:
            return
        taken = set(
            Customer.objects.filter(credit_code__in=wanted, merged_into__isnull=True)
            .exclude(credit_code="")  # the unique index's condition: used, no scan
            .values_list("credit_code", flat=True)
        )
        for code in wanted:
            self._code_in_db[code] = code in taken

    def forget(self) -> None:
        """Records were written past the batch (an update): look credit codes up again."""
        self._code_in_db.clear()

    def _code_taken(self, code: str, exclude_pk=None) -> bool:
        if code in self._pending_codes:  # an earlier row of the batch has it
            return True
        if code not in self._code_in_db:
            self.prefetch([code])
        return self._code_in_db[code]

    def customer(self, data: dict) -> Customer:
        """A new customer checked as customer_create checks it, not saved yet."""
        data = _customer_new(actor=self.actor, data=data, code_taken=self._code_taken)
        return record_build(
            actor=self.actor,
            model=Customer,
            data=data,
            perm="customers.add_customer",
            in_batch=True,
            later=("number",),  # taken for the whole batch at the insert
        )

    def contact(self, customer: Customer, data: dict, *, has_primary: bool) -> Contact:
        """A contact of a new customer checked as contact_create checks it."""
        data = _contact_new(actor=self.actor, data={**data, "customer": customer})
        _check_contact(customer=customer, data=data)
        if has_primary and data.get("is_primary"):
            # Taking over as primary is an audited update of the other contact.
            raise ValueError("CustomerBatch: create a second primary contact alone")
        _contact_defaults(data=data, customer=customer, has_primary=has_primary)
        return record_build(
            actor=self.actor,
            model=Contact,
            data=data,
            perm="customers.add_contact",
            in_batch=True,
        )

    def add(self, customer: Customer, contacts: list[Contact]) -> None:
        self.pending.append((customer, contacts))
        if customer.credit_code:
            self._pending_codes.add(customer.credit_code)

    def write(self) -> list[Customer]:
        """Insert the added customers and contacts (nothing stays if the database
        refuses one); returns the customers in the order they were added."""
        pending, self.pending = self.pending, []
        codes, self._pending_codes = self._pending_codes, set()
        if not pending:
            return []
        with transaction.atomic():
            numbers = next_numbers(SEQUENCE, len(pending))
            records: list = []
            for (customer, contacts), number in zip(pending, numbers, strict=True):
                customer.number = number
                records += [customer, *contacts]
            record_create_many(actor=self.actor, objs=records)
        for code in codes:
            self._code_in_db[code] = True
        return [customer for customer, _contacts in pending]


def customer_update(*, actor, obj: Customer, data: dict, version=None) -> Customer:
    """Edit a live customer carrying the version it was read at (stale: 409)."""
    authorize(actor, "customers.change_customer")
    if obj.is_deleted or obj.is_merged:
        raise Conflict(_("This customer is in the recycle bin or was merged."))
    data = {k: v for k, v in data.items() if k != "number"}
    owner = data.get("owner", obj.owner)
    department = data.get("department", obj.department)
    if (getattr(owner, "pk", None), getattr(department, "pk", None)) != (
        obj.owner_id,
        obj.department_id,
    ):
        # Handing a customer to someone else is an assignment (C8), not an edit.
        authorize(actor, "customers.assign_customer")
    data = _derive(data, obj)
    _check_customer(actor=actor, data=data, obj=obj)
    return record_update(
        actor=actor,
        obj=obj,
        data=data,
        perm="customers.change_customer",
        version=version,
    )


def customer_copy(*, actor, customer: Customer, name: str = "") -> Customer:
    """A new customer with the same details under a new number (no credit code, which
    belongs to one company); the user becomes its owner."""
    authorize(actor, "customers.add_customer")
    rights = field_rights(actor, Customer)
    data = {
        field: getattr(customer, field)
        for field in COPY_FIELDS
        if field not in rights.hidden
    }
    data["name"] = (name or "").strip() or _("%(name)s (copy)") % {
        "name": customer.name
    }
    return customer_create(actor=actor, data=data, note=f"copy of {customer.number}")


def customer_business_documents(customer: Customer) -> dict[str, int]:
    """The records of other modules that hold on to this customer (PROTECT/RESTRICT
    relations: orders, contracts…), discovered generically, with their counts."""
    return protected_references(customer)


def customer_delete(*, actor, customer: Customer) -> Customer:
    """Move a customer to the recycle bin. Needs the delete permission; a customer with
    business documents or live subsidiaries stays."""
    authorize(actor, "customers.delete_customer")
    authorize(actor, "core.delete_records")
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.is_merged:
            raise Conflict(_("This customer was merged into another one."))
        if locked.is_deleted:
            return locked
        documents = customer_business_documents(locked)
        if documents:
            listing = ", ".join(f"{name}: {count}" for name, count in documents.items())
            raise Conflict(
                _(
                    "This customer has business documents (%(documents)s) and cannot "
                    "be deleted."
                )
                % {"documents": listing}
            )
        live_children = Customer.objects.filter(
            parent=locked, deleted_at__isnull=True, merged_into__isnull=True
        )
        if live_children.exists():
            raise Conflict(_("Move or delete its subsidiaries first."))
        before = snapshot(locked)
        locked.deleted_at, locked.deleted_by = timezone.now(), actor
        locked.version += 1
        locked.save(update_fields=["deleted_at", "deleted_by", "version", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note="recycle bin",
        )
    return locked


def customer_restore(*, actor, customer: Customer) -> Customer:
    """Take a customer back out of the recycle bin (administrators)."""
    authorize(actor, "customers.restore_customer")
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if not locked.is_deleted:
            return locked
        before = snapshot(locked)
        locked.deleted_at, locked.deleted_by = None, None
        locked.version += 1
        locked.save(update_fields=["deleted_at", "deleted_by", "version", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note="restore",
        )
    return locked


def customer_merge(
    *,
    actor,
    survivor: Customer,
    merged: list[Customer],
    choices: dict[str, int] | None = None,
    versions: dict[int, int] | None = None,
) -> Customer:
    """C3: merge customers into a survivor. Each field takes the value of the customer
    chosen for it (default: the survivor's); every record of any module that points at a
    merged customer moves to the survivor, in one transaction; the merged customers stay
    as tombstones pointing at the survivor; the merge is in the audit trail."""
    authorize(actor, "core.merge_records")
    authorize(actor, "customers.change_customer")
    choices = dict(choices or {})
    merged_ids = []
    for customer in merged:
        if customer.pk != survivor.pk and customer.pk not in merged_ids:
            merged_ids.append(customer.pk)
    if not merged_ids:
        raise Invalid(
            _("Choose at least one other customer to merge."),
            fields={"merged": [_("Choose at least one other customer.")]},
        )
    all_ids = [survivor.pk, *merged_ids]
    errors: dict[str, list[str]] = {}
    rights = field_rights(actor, Customer)
    for field, source in choices.items():
        if field not in MERGE_FIELDS:
            errors.setdefault("fields", []).append(
                _("%(field)s cannot be chosen.") % {"field": field}
            )
        elif source not in all_ids:
            errors.setdefault("fields", []).append(
                _("Take %(field)s from one of the merged customers.") % {"field": field}
            )
        elif source != survivor.pk and field in rights.hidden | rights.readonly:
            raise Forbidden(
                _("You may not change some of these fields."),
                fields={field: [_("You may not change this field.")]},
            )
    _refuse(errors)
    with transaction.atomic():
        rows = {
            c.pk: c
            for c in Customer.objects.select_for_update()
            .filter(pk__in=all_ids)
            .order_by("pk")
        }
        if len(rows) != len(all_ids):
            raise Conflict(_("A customer to merge no longer exists."))
        for customer in rows.values():
            if customer.is_deleted or customer.is_merged:
                raise Conflict(
                    _("%(name)s is in the recycle bin or was merged already.")
                    % {"name": customer}
                )
        for pk, version in (versions or {}).items():
            if pk in rows and int(version) != rows[pk].version:
                raise Conflict(
                    _(
                        "%(name)s was changed by someone else in the meantime. "
                        "Reload and merge again."
                    )
                    % {"name": rows[pk]}
                )
        target = rows[survivor.pk]
        befores = {pk: snapshot(c) for pk, c in rows.items()}
        data = {
            field: getattr(rows[source], field)
            for field, source in choices.items()
            if source != target.pk
        }
        if "parent" in data or target.parent_id in merged_ids:
            parent = data.get("parent", target.parent)
            problems = _check_parent(
                actor=actor, parent=parent, obj=target, forbidden=merged_ids
            )
            if problems:
                _refuse({"parent": problems})
        data = _derive(data, target) if "name" in data else data
        if "mnemonic" in choices:  # chosen explicitly: not regenerated from the name
            data["mnemonic"] = rows[choices["mnemonic"]].mnemonic
        if data.get("owner") is not None and "department" not in choices:
            data["department"] = data["owner"].department

        # Tombstones first: a merged customer's credit code is free for the survivor.
        now = timezone.now()
        for pk in merged_ids:
            tomb = rows[pk]
            tomb.merged_into, tomb.merged_at = target, now
            tomb.version += 1
            tomb.save(
                update_fields=["merged_into", "merged_at", "version", "updated_at"]
            )
        for field, value in data.items():
            setattr(target, field, value)
        _full_clean(target)
        target.version += 1
        target.save()

        _merge_primary_contacts(target, merged_ids)
        moved = repoint_references(Customer, merged_ids, target, skip=MERGE_KEEP)

        numbers = ", ".join(rows[pk].number for pk in merged_ids)
        summary = "; ".join(f"{label} {n}" for label, n in moved.items() if n)
        audit_record(
            actor=actor,
            obj=target,
            action="merge",
            before=befores[target.pk],
            note=f"merged {numbers}; moved {summary or 'nothing'}",
        )
        for pk in merged_ids:
            audit_record(
                actor=actor,
                obj=rows[pk],
                action="merge",
                before=befores[pk],
                note=f"merged into {target.number}",
            )
    return target


def _merge_primary_contacts(target: Customer, merged_ids: list[int]) -> None:
    """The survivor keeps one primary contact: its own, else the first merged one's."""
    keep = (
        Contact.objects.filter(customer=target, is_primary=True)
        .values_list("pk", flat=True)
        .first()
    )
    if keep is None:
        for pk in merged_ids:
            keep = (
                Contact.objects.filter(customer_id=pk, is_primary=True)
                .values_list("pk", flat=True)
                .first()
            )
            if keep is not None:
                break
    demoted = Contact.objects.filter(customer_id__in=merged_ids, is_primary=True)
    if keep is not None:
        demoted = demoted.exclude(pk=keep)
    demoted.update(is_primary=False)


# Contacts


def _check_contact(*, customer: Customer, data: dict, obj: Contact | None = None):
    errors: dict[str, list[str]] = {}
    if customer.is_deleted or customer.is_merged:
        errors["customer"] = [_("This customer is in the recycle bin or was merged.")]
    supervisor = data.get("supervisor")
    if supervisor is not None:
        if supervisor.customer_id != customer.pk:
            errors["supervisor"] = [_("The supervisor works at the same customer.")]
        elif obj is not None and supervisor.pk == obj.pk:
            errors["supervisor"] = [_("A contact cannot be their own supervisor.")]
    _refuse(errors)


def _demote_primary(*, actor, customer_id, keep_pk=None) -> None:
    """Unset the customer's other primary contact (audited; its version moves on)."""
    others = Contact.objects.select_for_update().filter(
        customer_id=customer_id, is_primary=True
    )
    if keep_pk:
        others = others.exclude(pk=keep_pk)
    for other in others:
        before = snapshot(other)
        other.is_primary = False
        other.version += 1
        other.save(update_fields=["is_primary", "version", "updated_at"])
        audit_record(
            actor=actor, obj=other, action=AuditEvent.Action.UPDATE, before=before
        )


def _lock_customer(customer_id) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer_id)


def _contact_new(*, actor, data: dict) -> dict:
    authorize(actor, "customers.add_contact")
    data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
    if data.get("customer") is None:
        _refuse({"customer": [_("Choose a customer.")]})
    return data


def _contact_defaults(*, data: dict, customer: Customer, has_primary: bool) -> None:
    """The first contact is the primary one; the customer's owner is responsible."""
    if not has_primary:
        data["is_primary"] = True
    data["customer"] = customer
    if data.get("responsible") is None and customer.owner_id:
        data["responsible"] = customer.owner


def contact_create(*, actor, data: dict) -> Contact:
    """A customer's first contact is its primary one; a new primary contact takes over."""
    data = _contact_new(actor=actor, data=data)
    with transaction.atomic():
        customer = _lock_customer(data["customer"].pk)
        _check_contact(customer=customer, data=data)
        has_primary = Contact.objects.filter(
            customer=customer, is_primary=True
        ).exists()
        if has_primary and data.get("is_primary"):
            _demote_primary(actor=actor, customer_id=customer.pk)
        _contact_defaults(data=data, customer=customer, has_primary=has_primary)
        return record_create(
            actor=actor, model=Contact, data=data, perm="customers.add_contact"
        )


def contact_update(*, actor, obj: Contact, data: dict, version=None) -> Contact:
    """Edit a contact (stale version: 409). Making it primary unsets the other one; the
    primary contact stays primary until another one is made primary."""
    authorize(actor, "customers.change_contact")
    data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
    with transaction.atomic():
        customer = data.get("customer") or obj.customer
        if customer.pk != obj.customer_id:
            _lock_customer(obj.customer_id)
            if obj.is_primary:
                _refuse(
                    {
                        "customer": [
                            _("Make another contact primary before moving this one.")
                        ]
                    }
                )
        customer = _lock_customer(customer.pk)
        _check_contact(customer=customer, data=data, obj=obj)
        if "is_primary" in data:
            if data["is_primary"] and not obj.is_primary:
                _demote_primary(actor=actor, customer_id=customer.pk, keep_pk=obj.pk)
            elif not data["is_primary"] and obj.is_primary:
                _refuse(
                    {
                        "is_primary": [
                            _(
                                "Make another contact primary instead: a customer keeps one."
                            )
                        ]
                    }
                )
        if (
            customer.pk != obj.customer_id
            and not Contact.objects.filter(customer=customer, is_primary=True).exists()
        ):
            data["is_primary"] = True
        return record_update(
            actor=actor,
            obj=obj,
            data=data,
            perm="customers.change_contact",
            version=version,
        )


def contact_set_primary(*, actor, contact: Contact) -> Contact:
    """Make a contact its customer's primary contact; the previous one is unset."""
    authorize(actor, "customers.change_contact")
    with transaction.atomic():
        _lock_customer(contact.customer_id)
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        if locked.is_primary:
            return locked
        _demote_primary(actor=actor, customer_id=locked.customer_id, keep_pk=locked.pk)
        before = snapshot(locked)
        locked.is_primary = True
        locked.version += 1
        locked.save(update_fields=["is_primary", "version", "updated_at"])
        audit_record(
            actor=actor, obj=locked, action=AuditEvent.Action.UPDATE, before=before
        )
    return locked


def contact_delete(*, actor, obj: Contact) -> None:
    """Delete a contact; when it was the primary one, the longest-known other contact
    becomes primary."""
    authorize(actor, "customers.delete_contact")
    with transaction.atomic():
        _lock_customer(obj.customer_id)
        locked = Contact.objects.select_for_update().get(pk=obj.pk)
        successor = None
        if locked.is_primary:
            successor = (
                Contact.objects.filter(customer_id=locked.customer_id)
                .exclude(pk=locked.pk)
                .order_by("created_at", "pk")
                .first()
            )
        record_delete(actor=actor, obj=locked, perm="customers.delete_contact")
        if successor is not None:
            contact_set_primary(actor=actor, contact=successor)
