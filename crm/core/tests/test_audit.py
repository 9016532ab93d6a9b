"""Y7 audit trail: every create/update/delete through core.services is recorded with actor,
time and before/after values of the changed fields; a record's page has a history tab."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from crm.core.errors import Forbidden
from crm.core.models import AuditEvent
from crm.core.scopes import DataScope
from crm.core.services import record_create, record_delete, record_update
from crm.core.tests import pages
from crm.org.models import User
from crm.org.tests.factories import make_role
from crm.products.models import Category, Product

pytestmark = pytest.mark.usefixtures("english")

WRITE = (
    "products.view_product",
    "products.add_product",
    "products.change_product",
    "products.delete_product",
    "products.view_cost",
)


@pytest.fixture
def editor(org):
    org.rep_a.groups.set([make_role("editor", *WRITE, products=DataScope.ALL)])
    return User.objects.get(pk=org.rep_a.pk)


@pytest.fixture
def category(db):
    return Category.objects.create(name="类别", path="/x/")


def _events(obj):
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Product),
        object_id=str(obj.pk),
    )


def _create(editor, category, **data):
    values = {
        "code": "A-001",
        "name": "温湿度传感器",
        "category": category,
        "list_price": Decimal("180.00"),
        "cost": Decimal("90.00"),
        **data,
    }
    return record_create(
        actor=editor, model=Product, data=values, perm="products.add_product"
    )


def test_create_is_recorded_with_actor_and_values(editor, category):
    product = _create(editor, category)

    event = _events(product).get()
    assert event.action == AuditEvent.Action.CREATE
    assert event.actor == editor
    assert event.at is not None
    assert event.object_repr == "A-001 温湿度传感器"
    assert event.changes["name"] == [None, "温湿度传感器"]
    assert event.changes["list_price"] == [None, "180.000000"]
    assert event.changes["owner"] == [None, editor.pk]
    assert event.changes["department"] == [None, editor.department_id]


def test_create_defaults_owner_and_department_to_the_actor(editor, category):
    product = _create(editor, category)
    assert product.owner == editor
    assert product.department == editor.department


def test_update_records_only_the_changed_fields(editor, category):
    product = _create(editor, category)

    record_update(
        actor=editor,
        obj=product,
        data={"name": "压力变送器", "list_price": Decimal("180.00")},
        perm="products.change_product",
        version=product.version,
    )

    event = _events(product).filter(action=AuditEvent.Action.UPDATE).get()
    assert event.actor == editor
    assert event.changes == {"name": ["温湿度传感器", "压力变送器"]}


def test_delete_is_recorded_with_the_values_before(editor, category):
    product = _create(editor, category)
    pk = product.pk

    record_delete(actor=editor, obj=product, perm="products.delete_product")

    assert not Product.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(object_id=str(pk), action=AuditEvent.Action.DELETE)
    assert event.actor == editor
    assert event.changes["name"] == ["温湿度传感器", None]
    assert event.changes["code"] == ["A-001", None]


def test_refused_writes_leave_no_audit_row(org, category):
    reader = org.rep_b
    reader.groups.set([make_role("reader", "products.view_product")])
    reader = User.objects.get(pk=reader.pk)
    with pytest.raises(Forbidden):
        _create(reader, category)
    assert not AuditEvent.objects.exists()


def test_history_tab_shows_the_changes(editor, category, client_for):
    product = _create(editor, category)
    record_update(
        actor=editor,
        obj=product,
        data={"name": "压力变送器"},
        perm="products.change_product",
        version=product.version,
    )

    page = client_for(editor).get(f"/products/{product.pk}/")

    assert page.status_code == 200
    history = pages.section(page, 'id="tab-history"')
    assert "Updated" in history
    assert "Created" in history
    assert "温湿度传感器" in history  # the name before the change
    assert "压力变送器" in history
    assert str(editor) in history


def test_history_tab_of_a_record_without_changes(org, make_product, client_for):
    product = make_product(org.rep_a)
    org.rep_a.groups.set([make_role("r", "products.view_product", products="all")])
    page = client_for(org.rep_a).get(f"/products/{product.pk}/")
    assert "No recorded changes." in pages.section(page, 'id="tab-history"')
