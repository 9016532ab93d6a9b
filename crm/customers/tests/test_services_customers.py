"""C1/C3 customer services: numbers, mnemonic, credit code, hierarchy, versions, copy,
recycle bin (Y7 audit on each)."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.models import AuditEvent, Sequence
from crm.core.numbering import sequence_update
from crm.core.relations import protected_references
from crm.core.scopes import DataScope
from crm.customers import services
from crm.customers.models import Customer, Region
from crm.customers.tests.conftest import EDIT, MANAGE
from crm.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def events(obj, action=None):
    qs = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    )
    return list(qs.filter(action=action) if action else qs)


def create(actor, **data):
    data.setdefault("name", "北京华为技术有限公司")
    return services.customer_create(actor=actor, data=data)


# Create: number, mnemonic, derived keys


def test_create_numbers_customers_from_the_sequence(boss):
    """C1: the customer number comes from the sequence KH + 6 digits."""
    first = create(boss, name="甲公司")
    second = create(boss, name="乙公司")
    assert (first.number, second.number) == ("KH000001", "KH000002")
    assert first.owner == boss
    assert first.department == boss.department


def test_create_number_prefix_is_configurable(boss, org):
    sequence_update(actor=org.admin, key="customers.customer", prefix="CU-", padding=4)
    assert create(boss).number == "CU-0001"


def test_a_refused_customer_gives_its_number_back(boss):
    with pytest.raises(Invalid):
        create(boss, name="甲公司", main_phone="12345")
    assert create(boss, name="乙公司").number == "KH000001"
    assert Sequence.objects.get(key="customers.customer").next_value == 2


def test_mnemonic_is_generated_from_the_name(boss):
    customer = create(boss)
    assert customer.mnemonic == "BJHWJSYXGS"
    assert customer.name_initials == "BJHWJSYXGS"
    assert customer.name_key == "华为技术"


def test_mnemonic_typed_by_the_user_is_kept(boss):
    customer = create(boss, mnemonic="HUAWEI")
    assert customer.mnemonic == "HUAWEI"


def test_generated_mnemonic_follows_a_new_name_but_a_typed_one_stays(boss):
    customer = create(boss)
    customer = services.customer_update(
        actor=boss,
        obj=customer,
        data={"name": "上海华为技术有限公司", "mnemonic": customer.mnemonic},
        version=customer.version,
    )
    assert customer.mnemonic == "SHHWJSYXGS"
    customer = services.customer_update(
        actor=boss,
        obj=customer,
        data={"mnemonic": "HW-SH"},
        version=customer.version,
    )
    customer = services.customer_update(
        actor=boss,
        obj=customer,
        data={"name": "深圳华为技术有限公司", "mnemonic": "HW-SH"},
        version=customer.version,
    )
    assert customer.mnemonic == "HW-SH"
    assert customer.name_initials == "SZHWJSYXGS"


def test_every_c1_field_is_stored(boss):
    region = Region.objects.get(code="440305")
    parent = create(boss, name="华为投资控股有限公司")
    customer = create(
        boss,
        name="华为技术有限公司",
        credit_code="91440300708461136t",
        address="坂田华为基地",
        main_phone="0755-28780808",
        postcode="518129",
        email="info@huawei.example",
        region=region,
        industry=Customer.Industry.IT,
        level=Customer.Level.KEY,
        type=Customer.Type.END_USER,
        status=Customer.Status.ACTIVE,
        credit_rating="AAA",
        credit_limit=Decimal("5000000.00"),
        parent=parent,
        finance_phone="0755-28780809",
        homepage="https://www.huawei.example",
        notes="战略客户",
    )
    customer.refresh_from_db()
    assert customer.credit_code == "91440300708461136T"
    assert customer.region.full_name == "广东省 深圳市 南山区"
    assert customer.parent == parent
    assert customer.credit_limit == Decimal("5000000")
    assert customer.registered_at is not None
    assert events(customer, "create")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("credit_code", "91350100M000100Y44"),
        ("main_phone", "12345"),
        ("finance_phone", "021 12345678"),
        ("postcode", "51812"),
        ("email", "not-an-email"),
        ("homepage", "not a url"),
        ("credit_limit", Decimal("-1")),
    ],
)
def test_invalid_values_are_field_errors(boss, field, value):
    with pytest.raises(Invalid) as info:
        create(boss, **{field: value})
    assert field in info.value.fields
    assert not Customer.objects.exists()


def test_credit_code_is_unique_whatever_its_case(boss):
    create(boss, name="甲公司", credit_code="91350100M000100Y43")
    with pytest.raises(Invalid) as info:
        create(boss, name="乙公司", credit_code="91350100m000100y43")
    assert "credit_code" in info.value.fields


def test_customers_without_credit_code_do_not_clash(boss):
    create(boss, name="甲公司")
    create(boss, name="乙公司", credit_code="")
    assert Customer.objects.count() == 2


def test_create_needs_the_add_permission(make_user):
    viewer = make_user("customers.view_customer")
    with pytest.raises(Forbidden):
        create(viewer)


# Hierarchy (上级单位)


def test_parent_cannot_be_the_customer_itself_or_a_subsidiary(boss):
    top = create(boss, name="集团公司")
    middle = create(boss, name="华东公司", parent=top)
    bottom = create(boss, name="上海公司", parent=middle)
    for parent in (top, bottom, middle):
        with pytest.raises(Invalid) as info:
            services.customer_update(
                actor=boss,
                obj=top if parent != middle else middle,
                data={"parent": parent},
                version=(top if parent != middle else middle).version,
            )
        assert "parent" in info.value.fields
    top.refresh_from_db()
    assert top.parent is None


def test_parent_must_be_within_the_users_scope(scoped_org):
    org = scoped_org
    elsewhere = CustomerFactory(owner=org.rep_c)
    with pytest.raises(Invalid) as info:
        create(org.rep_a, parent=elsewhere)
    assert "parent" in info.value.fields


def test_parent_outside_the_scope_may_stay_when_editing_other_fields(scoped_org):
    org = scoped_org
    elsewhere = CustomerFactory(owner=org.rep_c)
    mine = CustomerFactory(owner=org.rep_a, parent=elsewhere)
    updated = services.customer_update(
        actor=org.rep_a,
        obj=mine,
        data={"parent": elsewhere, "notes": "更新"},
        version=mine.version,
    )
    assert updated.parent == elsewhere
    assert updated.notes == "更新"


# Update with version (Y7 audit)


def test_update_with_a_stale_version_is_refused(boss):
    customer = create(boss)
    services.customer_update(
        actor=boss, obj=customer, data={"notes": "一"}, version=customer.version
    )
    with pytest.raises(Conflict):
        services.customer_update(
            actor=boss, obj=customer, data={"notes": "二"}, version=customer.version
        )
    customer.refresh_from_db()
    assert customer.notes == "一"
    assert customer.version == 2


def test_update_is_audited_with_before_and_after(boss):
    customer = create(boss, level=Customer.Level.NORMAL)
    services.customer_update(
        actor=boss, obj=customer, data={"level": "a"}, version=customer.version
    )
    (event,) = events(customer, "update")
    assert event.changes["level"] == ["c", "a"]


def test_the_number_cannot_be_changed(boss):
    customer = create(boss)
    updated = services.customer_update(
        actor=boss, obj=customer, data={"number": "X1"}, version=1
    )
    assert updated.number == "KH000001"


# Copy


def test_copy_gets_a_new_number_and_no_credit_code(boss, make_user):
    original = create(
        boss,
        name="华为技术有限公司",
        credit_code="91440300708461136T",
        main_phone="0755-28780808",
        level="a",
    )
    rep = make_user(*EDIT)
    copy = services.customer_copy(
        actor=rep, customer=original, name="华为数字技术有限公司"
    )
    assert copy.number == "KH000002"
    assert copy.name == "华为数字技术有限公司"
    assert copy.mnemonic == "HWSZJSYXGS"
    assert copy.credit_code == ""
    assert (copy.main_phone, copy.level) == ("0755-28780808", "a")
    assert copy.owner == rep
    assert events(copy, "create")[0].note == "copy of KH000001"


def test_copy_without_a_name_marks_it_as_a_copy(boss):
    copy = services.customer_copy(actor=boss, customer=create(boss, name="甲公司"))
    assert copy.name.startswith("甲公司")
    assert copy.name != "甲公司"


# Recycle bin


def test_delete_moves_to_the_recycle_bin_and_restore_brings_it_back(boss):
    customer = create(boss)
    services.customer_delete(actor=boss, customer=customer)
    customer.refresh_from_db()
    assert customer.is_deleted
    assert customer.deleted_by == boss
    assert [e.note for e in events(customer, "update")] == ["recycle bin"]
    services.customer_restore(actor=boss, customer=customer)
    customer.refresh_from_db()
    assert not customer.is_deleted
    assert customer.deleted_by is None


def test_delete_needs_both_delete_permissions(make_user):
    only_functional = make_user(*EDIT, "customers.delete_customer")
    only_special = make_user(*EDIT, "core.delete_records")
    customer = CustomerFactory()
    for user in (only_functional, only_special):
        with pytest.raises(Forbidden):
            services.customer_delete(actor=user, customer=customer)
    customer.refresh_from_db()
    assert not customer.is_deleted


def test_restore_needs_the_restore_permission(boss, make_user):
    customer = create(boss)
    services.customer_delete(actor=boss, customer=customer)
    manager = make_user(*[p for p in MANAGE if p != "customers.restore_customer"])
    with pytest.raises(Forbidden):
        services.customer_restore(actor=manager, customer=customer)


def test_a_customer_with_live_subsidiaries_stays(boss):
    parent = create(boss, name="集团")
    create(boss, name="分公司", parent=parent)
    with pytest.raises(Conflict):
        services.customer_delete(actor=boss, customer=parent)


def test_a_customer_with_business_documents_stays(boss, monkeypatch):
    """Records of other modules that PROTECT a customer are its business documents
    (found generically; none exist yet, so one is simulated here)."""
    customer = create(boss)
    assert services.customer_business_documents(customer) == {}
    monkeypatch.setattr(
        services, "protected_references", lambda obj: {"sales orders": 2}
    )
    with pytest.raises(Conflict) as info:
        services.customer_delete(actor=boss, customer=customer)
    assert "sales orders: 2" in info.value.message
    customer.refresh_from_db()
    assert not customer.is_deleted


def test_protected_references_finds_protecting_records_generically(make_product):
    """The hook behind 'business documents', on real models: a product PROTECTs its
    category, so the category has one."""
    product = make_product()
    make_product(category=product.category)
    label = str(type(product)._meta.verbose_name_plural)
    assert protected_references(product.category) == {label: 2}
    assert protected_references(product) == {}


def test_a_deleted_customer_cannot_be_edited(boss):
    customer = create(boss)
    services.customer_delete(actor=boss, customer=customer)
    customer.refresh_from_db()
    with pytest.raises(Conflict):
        services.customer_update(
            actor=boss, obj=customer, data={"notes": "x"}, version=customer.version
        )


def test_deleted_customers_keep_their_credit_code(boss):
    customer = create(boss, name="甲", credit_code="91350100M000100Y43")
    services.customer_delete(actor=boss, customer=customer)
    with pytest.raises(Invalid):
        create(boss, name="乙", credit_code="91350100M000100Y43")


def test_scope_of_a_rep_does_not_change_the_services_rules(scoped_org):
    """A rep creates customers that are theirs and their department's."""
    customer = create(scoped_org.rep_b)
    assert customer.owner == scoped_org.rep_b
    assert customer.department == scoped_org.east_office
    assert DataScope.OWN in scoped_org.rep_b.data_scopes("customers")


@pytest.mark.parametrize("year", [1363, 1899, 2999])
def test_registration_time_outside_living_memory_is_refused(year, org):
    """The API fuzz pass sent 1363-12-10: stored, it came back with a +08:05:43 offset."""
    import datetime as dt

    from django.utils import timezone

    from crm.core.errors import Invalid
    from crm.customers.services import customer_create

    when = timezone.make_aware(dt.datetime(year, 6, 1, 9, 0))
    with pytest.raises(Invalid) as refused:
        customer_create(
            actor=org.admin, data={"name": f"{year}年公司", "registered_at": when}
        )
    assert "registered_at" in refused.value.fields
