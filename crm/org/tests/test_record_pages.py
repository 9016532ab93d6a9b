"""Y7: departments and product categories have a record page with a history tab."""

import pytest

from crm.org import services
from crm.org.tests.factories import UserFactory, make_role
from crm.products.services import category_create, category_update


@pytest.mark.django_db
def test_department_page_shows_its_history(org, client_for):
    dept = services.department_create(
        actor=org.admin, data={"name": "西北", "parent": org.group}
    )
    services.department_update(actor=org.admin, obj=dept, data={"name": "西北大区"})
    page = client_for(org.admin).get(f"/org/departments/{dept.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "西北大区" in html
    assert "西北" in html
    assert 'id="tab-history"' in html
    tree = client_for(org.admin).get("/org/departments/").content.decode()
    assert f'href="/org/departments/{dept.pk}/"' in tree


@pytest.mark.django_db
def test_department_page_needs_the_view_permission(org, client_for):
    nobody = UserFactory(roles=[make_role("无权限")])
    assert client_for(nobody).get(f"/org/departments/{org.east.pk}/").status_code == 403


@pytest.mark.django_db
def test_category_page_shows_its_history(org, client_for):
    category = category_create(actor=org.admin, data={"name": "传感器"})
    category_update(actor=org.admin, obj=category, data={"name": "智能传感器"})
    page = client_for(org.admin).get(f"/products/categories/{category.pk}/")
    assert page.status_code == 200
    assert "智能传感器" in page.content.decode()
    assert client_for(org.admin).get("/products/categories/999999/").status_code == 404
