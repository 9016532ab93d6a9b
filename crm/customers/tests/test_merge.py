"""C3 merge: field-by-field choice, every reference moves to the survivor (counted per
relation, discovered generically), tombstones, audit, the rules."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.models import AuditEvent
from crm.core.relations import (
    FK,
    M2M,
    reference_counts,
    references_to,
    repoint_references,
)
from crm.customers import services
from crm.customers.models import Contact, Customer
from crm.customers.tests.conftest import EDIT
from crm.customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def audit_count(ids) -> int:
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer),
        object_id__in=[str(i) for i in ids],
    ).count()


@pytest.fixture
def family(boss):
    """Three customers with contacts, subsidiaries, a tombstone and audit rows."""
    survivor = services.customer_create(
        actor=boss,
        data={"name": "华为技术有限公司", "main_phone": "0755-28780808"},
    )
    second = services.customer_create(
        actor=boss,
        data={
            "name": "华为技术有限公司（深圳）",
            "credit_code": "91440300708461136T",
            "level": "a",
            "notes": "重点",
        },
    )
    third = services.customer_create(actor=boss, data={"name": "华为深圳"})
    for customer, count in ((survivor, 2), (second, 3), (third, 1)):
        for _ in range(count):
            services.contact_create(
                actor=boss, data={"customer": customer, "name": "张三"}
            )
    CustomerFactory(name="子公司一", parent=second)
    CustomerFactory(name="子公司二", parent=third)
    CustomerFactory(name="子公司三", parent=survivor)
    old = CustomerFactory(name="早已合并")
    old.merged_into = third
    old.save()
    return survivor, second, third


def test_merge_keeps_every_related_record(boss, family):
    """Counts per relation before == after (merged_into also gains the tombstones),
    and the audit trail of the merged customers stays with them."""
    survivor, second, third = family
    ids = [survivor.pk, second.pk, third.pk]
    before = reference_counts(Customer, ids)
    audit_before = audit_count(ids)
    assert before["customers.contact.customer"] == 6
    assert before["customers.customer.parent"] == 3

    services.customer_merge(actor=boss, survivor=survivor, merged=[second, third])

    after = reference_counts(Customer, [survivor.pk])
    assert after["customers.customer.merged_into"] == (
        before["customers.customer.merged_into"] + 2
    )
    for label, count in before.items():
        if label != "customers.customer.merged_into":
            assert after[label] == count, label
    assert reference_counts(Customer, [second.pk, third.pk]) == {
        label: 0 for label in before
    }
    # Every relation pointing at Customer was counted (FK from contacts, self FKs…).
    assert set(before) == {ref.label for ref in references_to(Customer)}
    assert audit_count(ids) == audit_before + 3


def test_merge_takes_each_field_from_the_chosen_customer(boss, family):
    survivor, second, third = family
    merged = services.customer_merge(
        actor=boss,
        survivor=survivor,
        merged=[second, third],
        choices={
            "name": second.pk,
            "credit_code": second.pk,
            "level": second.pk,
            "notes": second.pk,
            "main_phone": survivor.pk,
        },
    )
    merged.refresh_from_db()
    assert merged.pk == survivor.pk
    assert merged.name == "华为技术有限公司（深圳）"
    assert merged.credit_code == "91440300708461136T"  # the tombstone let it go
    assert (merged.level, merged.notes) == ("a", "重点")
    assert merged.main_phone == "0755-28780808"
    assert merged.number == survivor.number
    assert merged.name_key == "华为技术"


def test_merged_customers_become_tombstones_of_the_survivor(boss, family):
    survivor, second, third = family
    services.customer_merge(actor=boss, survivor=survivor, merged=[second, third])
    for tomb in (second, third):
        tomb.refresh_from_db()
        assert tomb.merged_into_id == survivor.pk
        assert tomb.merged_at
    # Older tombstones of a merged customer now point at the survivor too.
    assert Customer.objects.get(name="早已合并").merged_into_id == survivor.pk


def test_merge_is_audited_on_survivor_and_tombstones(boss, family):
    survivor, second, third = family
    services.customer_merge(
        actor=boss,
        survivor=survivor,
        merged=[second, third],
        choices={"level": second.pk},
    )
    ct = ContentType.objects.get_for_model(Customer)
    event = AuditEvent.objects.get(
        content_type=ct, object_id=str(survivor.pk), action="merge"
    )
    assert second.number in event.note
    assert third.number in event.note
    assert "customers.contact.customer 4" in event.note
    assert event.changes["level"] == ["c", "a"]
    tomb_event = AuditEvent.objects.get(
        content_type=ct, object_id=str(second.pk), action="merge"
    )
    assert tomb_event.note == f"merged into {survivor.number}"


def test_survivor_keeps_exactly_one_primary_contact(boss, family):
    survivor, second, third = family
    own_primary = Contact.objects.get(customer=survivor, is_primary=True)
    services.customer_merge(actor=boss, survivor=survivor, merged=[second, third])
    contacts = Contact.objects.filter(customer=survivor)
    assert contacts.count() == 6
    assert list(contacts.filter(is_primary=True)) == [own_primary]


def test_survivor_without_contacts_takes_a_merged_primary(boss):
    survivor = CustomerFactory(name="甲")
    other = CustomerFactory(name="乙")
    services.contact_create(actor=boss, data={"customer": other, "name": "王五"})
    services.customer_merge(actor=boss, survivor=survivor, merged=[other])
    assert Contact.objects.get(customer=survivor).is_primary


def test_merge_needs_the_merge_permission(make_user, family):
    survivor, second, _third = family
    editor = make_user(*EDIT)
    with pytest.raises(Forbidden):
        services.customer_merge(actor=editor, survivor=survivor, merged=[second])
    second.refresh_from_db()
    assert second.merged_into is None


def test_merge_refuses_a_stale_version(boss, family):
    survivor, second, _third = family
    versions = {survivor.pk: survivor.version, second.pk: second.version}
    services.customer_update(
        actor=boss, obj=second, data={"notes": "改了"}, version=second.version
    )
    with pytest.raises(Conflict):
        services.customer_merge(
            actor=boss, survivor=survivor, merged=[second], versions=versions
        )
    second.refresh_from_db()
    assert second.merged_into is None


def test_merge_refuses_unknown_fields_and_foreign_sources(boss, family):
    survivor, second, third = family
    with pytest.raises(Invalid):
        services.customer_merge(
            actor=boss,
            survivor=survivor,
            merged=[second],
            choices={"number": second.pk},
        )
    with pytest.raises(Invalid):
        services.customer_merge(
            actor=boss, survivor=survivor, merged=[second], choices={"name": third.pk}
        )
    with pytest.raises(Invalid):
        services.customer_merge(actor=boss, survivor=survivor, merged=[survivor])


def test_merge_refuses_tombstones_and_deleted_customers(boss, family):
    survivor, second, third = family
    services.customer_merge(actor=boss, survivor=survivor, merged=[second])
    with pytest.raises(Conflict):
        services.customer_merge(actor=boss, survivor=third, merged=[second])
    binned = CustomerFactory(name="回收站里的")
    services.customer_delete(actor=boss, customer=binned)
    with pytest.raises(Conflict):
        services.customer_merge(actor=boss, survivor=survivor, merged=[binned])


def test_merge_refuses_a_hierarchy_cycle(boss):
    top = CustomerFactory(name="集团")
    child = CustomerFactory(name="分公司", parent=top)
    # The child survives and would stay under the customer merged into it.
    with pytest.raises(Invalid) as info:
        services.customer_merge(actor=boss, survivor=child, merged=[top])
    assert "parent" in info.value.fields
    # Taking no parent works: the old parent's other subsidiaries move under the child.
    sibling = CustomerFactory(name="兄弟公司", parent=top)
    grand = CustomerFactory(name="上级集团")
    top.parent = grand
    top.save()
    services.customer_merge(
        actor=boss, survivor=child, merged=[top], choices={"parent": top.pk}
    )
    child.refresh_from_db()
    sibling.refresh_from_db()
    assert child.parent == grand
    assert sibling.parent == child


def test_a_merged_field_the_user_may_not_edit_is_refused(make_user, family):
    survivor, second, _third = family
    user = make_user(
        *EDIT,
        "core.merge_records",
        field_rights={"customers.customer": {"credit_code": "readonly"}},
    )
    with pytest.raises(Forbidden):
        services.customer_merge(
            actor=user,
            survivor=survivor,
            merged=[second],
            choices={"credit_code": second.pk},
        )


# The generic machinery on other models


def test_references_are_discovered_from_the_registry():
    found = {(r.label, r.kind) for r in references_to(Customer)}
    assert ("customers.contact.customer", FK) in found
    assert ("customers.customer.parent", FK) in found
    assert ("customers.customer.merged_into", FK) in found


def test_repoint_moves_many_to_many_links_without_doubling(db):
    """Many-to-many links (groups → permissions here) move and are not doubled."""
    first, second, third = Permission.objects.order_by("pk")[:3]
    both = Group.objects.create(name="甲")
    both.permissions.set([first, second])
    one = Group.objects.create(name="乙")
    one.permissions.set([second])
    labels = {r.label: r for r in references_to(Permission) if r.kind == M2M}
    assert "auth.group_permissions.permission" in labels
    moved = repoint_references(Permission, [second.pk, third.pk], first)
    assert moved["auth.group_permissions.permission"] == 1
    assert list(both.permissions.all()) == [first]
    assert list(one.permissions.all()) == [first]


def test_contacts_follow_and_keep_their_supervisors(boss):
    survivor = CustomerFactory()
    other = CustomerFactory()
    chief = ContactFactory(customer=other, name="总经理")
    report = ContactFactory(customer=other, name="助理", supervisor=chief)
    services.customer_merge(actor=boss, survivor=survivor, merged=[other])
    report.refresh_from_db()
    assert report.customer == survivor
    assert report.supervisor == chief
