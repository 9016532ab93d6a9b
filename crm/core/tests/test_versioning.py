"""Optimistic locking: an update based on a stale version is refused — 409 in the API, a clear
message in the UI with the user's input kept — and changes nothing."""

from decimal import Decimal

import pytest

from crm.core.errors import Conflict
from crm.core.models import AuditEvent
from crm.core.scopes import DataScope
from crm.core.services import record_update
from crm.org.models import User
from crm.org.tests.factories import make_role
from crm.products.services import product_update

pytestmark = pytest.mark.usefixtures("english")

STALE_MESSAGE = "This record was changed by someone else in the meantime."


@pytest.fixture
def editor(org):
    role = make_role(
        "editor",
        "products.view_product",
        "products.change_product",
        "products.view_cost",
        products=DataScope.ALL,
    )
    org.rep_a.groups.set([role])
    return User.objects.get(pk=org.rep_a.pk)


@pytest.fixture
def product(org, make_product):
    return make_product(org.manager, name="原名称")


@pytest.fixture
def changed_meanwhile(org, product):
    """Somebody else saved the product after our editor loaded version 1."""
    return record_update(
        actor=org.admin,
        obj=product,
        data={"name": "别人改的"},
        perm="products.change_product",
        version=1,
    )


def test_update_bumps_the_version(editor, product):
    saved = product_update(
        actor=editor, obj=product, data={"name": "新"}, version=product.version
    )
    assert saved.version == 2
    product.refresh_from_db()
    assert (product.name, product.version) == ("新", 2)


def test_stale_version_is_a_conflict_and_changes_nothing(editor, product):
    product_update(actor=editor, obj=product, data={"name": "第一次"}, version=1)
    audit_rows = AuditEvent.objects.count()

    with pytest.raises(Conflict) as refused:
        product_update(actor=editor, obj=product, data={"name": "第二次"}, version=1)

    assert refused.value.status == 409
    assert "version" in refused.value.fields
    product.refresh_from_db()
    assert (product.name, product.version) == ("第一次", 2)
    assert AuditEvent.objects.count() == audit_rows


def test_missing_version_is_refused(editor, product):
    with pytest.raises(Conflict):
        product_update(actor=editor, obj=product, data={"name": "x"}, version=None)
    product.refresh_from_db()
    assert product.name == "原名称"


@pytest.mark.parametrize("method", ["patch", "put"])
def test_api_answers_409_on_a_stale_version(
    editor, product, changed_meanwhile, client_for, method
):
    body = {"name": "我的修改", "version": 1}
    if method == "put":
        body.update(
            code=product.code,
            category=product.category_id,
            type=product.type,
            unit=product.unit,
            list_price="100.00",
            cost="60.00",
            status=product.status,
        )
    response = getattr(client_for(editor), method)(
        f"/api/v1/products/products/{product.pk}/",
        body,
        content_type="application/json",
    )

    assert response.status_code == 409
    payload = response.json()
    assert payload["code"] == "conflict"
    assert STALE_MESSAGE in payload["message"]
    assert "version" in payload["fields"]
    product.refresh_from_db()
    assert (product.name, product.version) == ("别人改的", 2)


def test_api_accepts_the_current_version(editor, product, client_for):
    response = client_for(editor).patch(
        f"/api/v1/products/products/{product.pk}/",
        {"name": "我的修改", "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2


def _form(product, **changes):
    data = {
        "code": product.code,
        "name": product.name,
        "category": product.category_id,
        "type": product.type,
        "specification": "",
        "unit": product.unit,
        "list_price": "100.00",
        "cost": "60.00",
        "status": product.status,
        "description": "",
        "version": 1,
    }
    data.update(changes)
    return data


def test_edit_form_carries_the_version(editor, product, client_for):
    html = client_for(editor).get(f"/products/{product.pk}/edit/").content.decode()
    assert 'name="version"' in html
    assert 'value="1"' in html


def test_edit_form_answers_409_with_the_message_and_keeps_the_input(
    editor, product, changed_meanwhile, client_for
):
    response = client_for(editor).post(
        f"/products/{product.pk}/edit/",
        _form(product, name="我的修改", specification="32点"),
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert STALE_MESSAGE in html
    assert 'value="我的修改"' in html
    assert 'value="32点"' in html
    product.refresh_from_db()
    assert (product.name, product.version) == ("别人改的", 2)


def test_edit_form_saves_with_the_current_version(editor, product, client_for):
    response = client_for(editor).post(
        f"/products/{product.pk}/edit/",
        _form(product, name="我的修改", list_price="120.50"),
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "我的修改"
    assert product.list_price == Decimal("120.50")
    assert product.version == 2
