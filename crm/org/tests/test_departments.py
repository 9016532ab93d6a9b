"""Y3 departments: a tree of any depth stored with a materialised path; create, rename,
move a subtree (never under its own descendant), deactivate; shown as a tree."""

import pytest

from crm.core.errors import Forbidden, Invalid
from crm.core.models import AuditEvent
from crm.core.tests import pages
from crm.org.models import Department, User
from crm.org.services import (
    department_create,
    department_deactivate,
    department_move,
    department_update,
)
from crm.org.tests.factories import DepartmentFactory, UserFactory, make_role

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def org_admin(org):
    role = make_role(
        "org admin",
        "org.view_department",
        "org.add_department",
        "org.change_department",
    )
    org.admin_user = UserFactory(username="orgadmin", department=org.group)
    org.admin_user.groups.set([role])
    return User.objects.get(pk=org.admin_user.pk)


@pytest.fixture
def branch(org):
    """华东 → 浦东办事处 → 车间 → 车间组: four levels to move around."""
    workshop = DepartmentFactory(name="一车间", kind="workshop", parent=org.east_office)
    team = DepartmentFactory(name="装配组", kind="workshop_group", parent=workshop)
    return workshop, team


def fresh(dept: Department) -> Department:
    return Department.objects.get(pk=dept.pk)


def test_create_under_a_parent_sets_path_and_depth(org, org_admin):
    dept = department_create(
        actor=org_admin,
        data={"name": "杭州办事处", "kind": Department.Kind.OFFICE, "parent": org.east},
    )
    dept = fresh(dept)
    assert dept.path == f"{org.east.path}{dept.pk}/"
    assert dept.depth == org.east.depth + 1 == 2
    assert dept.path == f"/{org.group.pk}/{org.east.pk}/{dept.pk}/"
    assert AuditEvent.objects.filter(
        object_id=str(dept.pk), action=AuditEvent.Action.CREATE
    ).exists()


def test_create_a_root(org_admin):
    dept = fresh(
        department_create(
            actor=org_admin, data={"name": "新集团", "kind": Department.Kind.GROUP}
        )
    )
    assert (dept.path, dept.depth) == (f"/{dept.pk}/", 0)


def test_create_needs_permission(org):
    with pytest.raises(Forbidden):
        department_create(actor=org.rep_a, data={"name": "x", "parent": org.east})
    assert not Department.objects.filter(name="x").exists()


def test_create_with_invalid_data_is_refused(org, org_admin):
    with pytest.raises(Invalid) as refused:
        department_create(
            actor=org_admin, data={"name": "", "kind": "nonsense", "parent": org.east}
        )
    assert {"name", "kind"} <= set(refused.value.fields)


def test_move_a_subtree_updates_every_descendant(org, org_admin, branch):
    workshop, team = branch

    department_move(actor=org_admin, dept=org.east_office, parent=org.south)

    office, workshop, team = fresh(org.east_office), fresh(workshop), fresh(team)
    south = fresh(org.south)
    assert office.parent == south
    assert office.path == f"{south.path}{office.pk}/"
    assert workshop.path == f"{office.path}{workshop.pk}/"
    assert team.path == f"{workshop.path}{team.pk}/"
    assert (office.depth, workshop.depth, team.depth) == (2, 3, 4)
    # the old parent's subtree no longer holds them
    east_subtree = Department.objects.filter(path__startswith=fresh(org.east).path)
    assert set(east_subtree) == {fresh(org.east)}


def test_move_to_the_root_and_deeper(org, org_admin, branch):
    workshop, team = branch
    department_move(actor=org_admin, dept=workshop, parent=None)
    assert (fresh(workshop).path, fresh(workshop).depth) == (f"/{workshop.pk}/", 0)
    assert (fresh(team).path, fresh(team).depth) == (
        f"/{workshop.pk}/{team.pk}/",
        1,
    )
    department_move(actor=org_admin, dept=fresh(workshop), parent=fresh(org.south))
    assert fresh(team).depth == 3
    assert fresh(team).path == f"{fresh(org.south).path}{workshop.pk}/{team.pk}/"


@pytest.mark.parametrize("target", ["itself", "child", "grandchild"])
def test_move_under_its_own_descendant_is_refused(org, org_admin, branch, target):
    _workshop, team = branch
    parent = {"itself": org.east, "child": org.east_office, "grandchild": team}[target]
    before = dict(Department.objects.values_list("pk", "path"))

    with pytest.raises(Invalid) as refused:
        department_move(actor=org_admin, dept=org.east, parent=parent)

    assert "parent" in refused.value.fields
    assert dict(Department.objects.values_list("pk", "path")) == before
    assert fresh(org.east).parent == org.group


def test_update_moves_and_renames_in_one_go(org, org_admin, branch):
    workshop, team = branch
    department_update(
        actor=org_admin, obj=workshop, data={"name": "二车间", "parent": org.south}
    )
    workshop = fresh(workshop)
    assert workshop.name == "二车间"
    assert workshop.parent == org.south
    assert fresh(team).path == f"{workshop.path}{team.pk}/"


def test_update_refusing_the_move_changes_nothing(org, org_admin, branch):
    _workshop, team = branch
    with pytest.raises(Invalid):
        department_update(
            actor=org_admin, obj=org.east, data={"name": "改名", "parent": team}
        )
    assert fresh(org.east).name == "华东"
    assert fresh(org.east).parent == org.group


def test_deactivate_is_refused_while_active_children_exist(org, org_admin):
    with pytest.raises(Invalid):
        department_deactivate(actor=org_admin, dept=org.group)
    assert fresh(org.group).is_active


def test_deactivate_is_refused_while_active_employees_exist(org, org_admin):
    assert not org.south.children.exists()
    with pytest.raises(Invalid):
        department_deactivate(actor=org_admin, dept=org.south)  # rep_c works here
    assert fresh(org.south).is_active


def test_deactivate_an_empty_department(org, org_admin):
    org.rep_c.is_active = False
    org.rep_c.save()
    dept = department_deactivate(actor=org_admin, dept=org.south)
    assert dept.is_active is False
    assert fresh(org.south).is_active is False
    assert AuditEvent.objects.filter(
        object_id=str(org.south.pk), note="deactivate"
    ).exists()


def test_deactivate_needs_permission(org):
    org.rep_c.is_active = False
    org.rep_c.save()
    with pytest.raises(Forbidden):
        department_deactivate(actor=org.rep_a, dept=org.south)


# Pages


def test_tree_page_shows_every_department(org, org_admin, branch, client_for):
    response = client_for(org_admin).get("/org/departments/")
    assert response.status_code == 200
    text = pages.text(response)
    for name in ("集团", "华东", "浦东办事处", "华南", "一车间", "装配组"):
        assert name in text
    # parents before children, as a tree reads
    assert text.index("华东") < text.index("浦东办事处") < text.index("一车间")


def test_tree_page_needs_permission(org, client_for):
    assert client_for(org.rep_a).get("/org/departments/").status_code == 403


def test_create_through_the_page(org, org_admin, client_for):
    client = client_for(org_admin)
    form = client.get("/org/departments/new/")
    assert form.status_code == 200
    assert "New department" in pages.text(form)

    response = client.post(
        "/org/departments/new/",
        {
            "name": "苏州办事处",
            "kind": "office",
            "parent": org.east.pk,
            "sort_order": 0,
        },
    )

    assert response.status_code == 302
    dept = Department.objects.get(name="苏州办事处")
    assert dept.path == f"{org.east.path}{dept.pk}/"
    assert "苏州办事处" in pages.text(client.get("/org/departments/"))


def test_create_page_shows_field_errors(org, org_admin, client_for):
    response = client_for(org_admin).post(
        "/org/departments/new/", {"name": "", "kind": "office", "sort_order": 0}
    )
    assert response.status_code == 400
    assert "This field is required." in pages.text(response)


def test_edit_through_the_page_renames_and_moves(org, org_admin, branch, client_for):
    workshop, team = branch
    client = client_for(org_admin)
    assert client.get(f"/org/departments/{workshop.pk}/edit/").status_code == 200

    response = client.post(
        f"/org/departments/{workshop.pk}/edit/",
        {
            "name": "总装车间",
            "kind": "workshop",
            "parent": org.south.pk,
            "sort_order": 0,
        },
    )

    assert response.status_code == 302
    workshop = fresh(workshop)
    assert (workshop.name, workshop.parent) == ("总装车间", org.south)
    assert fresh(team).path == f"{workshop.path}{team.pk}/"


def test_edit_page_refuses_a_move_under_a_descendant(
    org, org_admin, branch, client_for
):
    _workshop, team = branch
    response = client_for(org_admin).post(
        f"/org/departments/{org.east.pk}/edit/",
        {"name": "华东", "kind": "branch", "parent": team.pk, "sort_order": 0},
    )
    assert response.status_code == 400
    assert "Choose a node outside this subtree." in pages.text(response)
    assert fresh(org.east).parent == org.group


def test_pages_without_permission_are_403(org, client_for):
    viewer = UserFactory(department=org.east)
    viewer.groups.set([make_role("viewer", "org.view_department")])
    client = client_for(viewer)
    assert client.get("/org/departments/").status_code == 200
    assert client.get("/org/departments/new/").status_code == 403
    assert client.get(f"/org/departments/{org.east.pk}/edit/").status_code == 403
    response = client.post(
        "/org/departments/new/",
        {"name": "偷建", "kind": "office", "parent": org.east.pk, "sort_order": 0},
    )
    assert response.status_code == 403
    response = client.post(
        f"/org/departments/{org.east.pk}/edit/",
        {"name": "偷改", "kind": "branch", "parent": org.group.pk, "sort_order": 0},
    )
    assert response.status_code == 403
    assert client.post(f"/org/departments/{org.south.pk}/deactivate/").status_code == (
        403
    )
    assert not Department.objects.filter(name__in=["偷建", "偷改"]).exists()


def test_deactivate_through_the_page(org, org_admin, client_for):
    empty = DepartmentFactory(name="空部门", parent=org.south)
    client = client_for(org_admin)
    response = client.post(f"/org/departments/{empty.pk}/deactivate/")
    assert response.status_code == 302
    assert fresh(empty).is_active is False

    refused = client.post(
        f"/org/departments/{org.south.pk}/deactivate/",
        HTTP_REFERER="http://testserver/org/departments/",
    )
    assert refused.status_code == 302
    assert fresh(org.south).is_active
    follow = client.get("/org/departments/")
    assert "Move or deactivate its active employees first." in pages.text(follow)
