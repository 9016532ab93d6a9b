"""Factories for the organisation: the smallest valid departments, employees and roles."""

import factory
from django.contrib.auth.models import Permission

from crm.core.scopes import DOMAINS, DataScope
from crm.core.trees import tree_place
from crm.org.models import Department, Role, User


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"部门{n}")
    kind = Department.Kind.OFFICE

    @factory.post_generation
    def place(obj, create, extracted, **kwargs):
        if create:
            tree_place(obj)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"员工{n}")
    department = factory.SubFactory(DepartmentFactory)
    password = factory.django.Password("Pass-word-2026")

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.groups.set(extracted)


def perms(*codes: str) -> list[Permission]:
    """Permission objects from 'app.codename' strings."""
    result = []
    for code in codes:
        app, codename = code.split(".", 1)
        result.append(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    return result


def make_role(
    name: str, *codes: str, scope: str = DataScope.OWN, field_rights=None, **scopes
) -> Role:
    """A role with the given permissions, one scope for every domain (overridable per domain)."""
    role = Role.objects.create(
        name=name,
        data_scopes={d: scopes.get(d, scope) for d in DOMAINS},
        field_rights=field_rights or {},
    )
    role.permissions.set(perms(*codes))
    return role
