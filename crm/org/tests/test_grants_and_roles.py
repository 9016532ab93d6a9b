"""Y5: granting roles needs the right to change roles; the role editor validates its input;
Y7: audit rows record what really changed."""

import pytest

from crm.core.errors import Forbidden, Invalid
from crm.core.models import AuditEvent
from crm.org import services
from crm.org.models import Department, Role
from crm.org.tests.factories import UserFactory, make_role


@pytest.mark.django_db
def test_editing_employees_does_not_allow_granting_roles(org):
    hr = UserFactory(roles=[make_role("人事", "org.change_user", "org.view_user")])
    admin_role = make_role("管理员", "core.manage_system")
    with pytest.raises(Forbidden):
        services.employee_update(actor=hr, obj=hr, data={"roles": [admin_role]})
    assert not hr.groups.filter(pk=admin_role.pk).exists()
    # the same edit without touching roles is fine
    services.employee_update(actor=hr, obj=org.rep_a, data={"position": "大客户经理"})
    org.rep_a.refresh_from_db()
    assert org.rep_a.position == "大客户经理"


@pytest.mark.django_db
def test_role_name_too_long_or_with_nul_is_a_field_error(org):
    with pytest.raises(Invalid) as error:
        services.role_save(actor=org.admin, role=None, data={"name": "角" * 151})
    assert "name" in error.value.fields
    with pytest.raises(Invalid) as error:
        services.role_save(
            actor=org.admin, role=None, data={"name": "ok", "description": "a\x00b"}
        )
    assert "description" in error.value.fields
    assert not Role.objects.exists()


@pytest.mark.django_db
def test_saving_a_role_unchanged_records_no_permission_change(org):
    role = services.role_save(actor=org.admin, role=None, data={"name": "销售"})
    services.role_save(
        actor=org.admin, role=role, data={"name": "销售", "description": "x"}
    )
    event = AuditEvent.objects.filter(action="update", object_id=str(role.pk)).first()
    assert "permissions" not in event.changes
    assert event.changes["description"] == ["", "x"]


@pytest.mark.django_db
def test_a_new_departments_audit_row_has_its_path(org):
    dept = services.department_create(
        actor=org.admin, data={"name": "西北", "parent": org.group}
    )
    event = AuditEvent.objects.get(
        action="create", object_id=str(dept.pk), content_type__model="department"
    )
    assert event.changes["path"][1] == Department.objects.get(pk=dept.pk).path != ""


@pytest.mark.django_db
def test_a_new_employee_without_a_number_gets_the_next_one_from_the_sequence(org):
    data = {
        "username": "new1",
        "name": "新员工",
        "department": org.east,
        "password": "Huaxia#2026x",
    }
    first = services.employee_create(actor=org.admin, data=data)
    second = services.employee_create(
        actor=org.admin, data={**data, "username": "new2"}
    )
    assert first.employee_no.startswith("E")
    assert int(second.employee_no[1:]) == int(first.employee_no[1:]) + 1
