"""C8/Y5: handing a customer to someone else is an assignment, not an edit."""

import pytest

from crm.core.errors import Forbidden
from crm.customers.services import customer_create, customer_update
from crm.org.tests.factories import UserFactory, make_role

REP = ("customers.view_customer", "customers.add_customer", "customers.change_customer")


@pytest.mark.django_db
def test_a_rep_cannot_give_a_customer_away_by_editing_it(org):
    rep = UserFactory(department=org.east, roles=[make_role("代表", *REP)])
    customer = customer_create(actor=rep, data={"name": "杭州西湖科技有限公司"})
    with pytest.raises(Forbidden):
        customer_update(
            actor=rep, obj=customer, data={"owner": org.rep_c}, version=customer.version
        )
    customer.refresh_from_db()
    assert customer.owner == rep
    with pytest.raises(Forbidden):
        customer_create(
            actor=rep, data={"name": "苏州工业园区测试有限公司", "owner": org.rep_c}
        )


@pytest.mark.django_db
def test_an_assigner_may_change_the_owner(org):
    manager = UserFactory(
        department=org.east,
        roles=[
            make_role(
                "经理", *REP, "customers.assign_customer", scope="department_tree"
            )
        ],
    )
    customer = customer_create(actor=manager, data={"name": "宁波港口物流有限公司"})
    customer = customer_update(
        actor=manager, obj=customer, data={"owner": org.rep_a}, version=customer.version
    )
    assert customer.owner == org.rep_a


@pytest.mark.django_db
def test_the_edit_form_locks_owner_for_a_rep(org, client_for):
    rep = UserFactory(department=org.east, roles=[make_role("代表", *REP)])
    customer = customer_create(actor=rep, data={"name": "无锡精密机械有限公司"})
    html = client_for(rep).get(f"/customers/{customer.pk}/edit/").content.decode()
    assert 'name="owner"' in html
    assert "disabled" in html.split('name="owner"')[1][:300]
