"""X2 / issue 2 point 11: a schemathesis pass over the OpenAPI schema finds no 5xx.

Every operation of /api/schema/ is called with generated data, valid and invalid, through
the real WSGI application, as a superuser and as a sales rep who sees only their own
records (token authentication). Checks: no server error, every status is documented, and
every response body matches its documented schema (the error envelope included).

Generated ids are mostly unknown, so positive ids in paths, and half of those in foreign-key
fields of bodies, are swapped for ids of real records (inside and outside the rep's
scope), and two thirds of the generated versions for the record's current one: that way
updates really run, with generated values, down to the database. Unknown ids still come
as 0, negative numbers, huge numbers and strings.
"""

import json
import os
from decimal import Decimal

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from crm.core.scopes import DataScope
from crm.core.trees import tree_place
from crm.org.models import Department, User
from crm.org.tests.factories import DepartmentFactory, UserFactory, make_role
from crm.products.models import Category, PriceList, PriceListItem, Product


def generated_schema() -> dict:
    """The OpenAPI document, generated as GET /api/schema/ generates it (without a caller:
    the database is not open while tests are collected). test_api_errors.py checks that
    the document served over HTTP is this one."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(generated_schema())
schema.app = WSGIHandler()

REP_PERMISSIONS = (
    "org.view_department",
    "org.view_user",
    "products.view_product",
    "products.add_product",
    "products.change_product",
    "products.view_category",
    "products.view_pricelist",
)

# Which model a path's {id} and a body's foreign key point at.
PATH_MODELS = {
    "/api/v1/org/departments/": Department,
    "/api/v1/org/employees/": User,
    "/api/v1/products/categories/": Category,
    "/api/v1/products/price-lists/": PriceList,
    "/api/v1/products/products/": Product,
}
BODY_MODELS = {
    "parent": Department,
    "department": Department,
    "supervisor": User,
    "category": Category,
    "product": Product,
}


def _catalogue(owner, other_owner):
    """A category tree, products of two owners, a price list with items."""
    root = Category.objects.create(name="整机", code="M")
    tree_place(root)
    child = Category.objects.create(name="挖掘机", code="M-EX", parent=root)
    tree_place(child)
    products = [
        Product.objects.create(
            code=f"P-{number:03d}",
            name=f"产品{number}",
            category=child,
            list_price=Decimal("1000.00") * number,
            cost=Decimal("600.00") * number,
            owner=user,
            department=user.department,
        )
        for number, user in enumerate([owner, owner, other_owner], start=1)
    ]
    price_list = PriceList.objects.create(
        name="2026 经销价", owner=owner, department=owner.department
    )
    for product in products:
        PriceListItem.objects.create(
            price_list=price_list, product=product, price=product.list_price
        )
    PriceList.objects.create(
        name="2026 零售价", owner=other_owner, department=other_owner.department
    )


@pytest.fixture(params=["superuser", "rep"])
def api_user(request, db):
    group = DepartmentFactory(name="集团", kind="group")
    east = DepartmentFactory(name="华东", kind="branch", parent=group)
    DepartmentFactory(name="浦东办事处", kind="office", parent=east)
    admin = UserFactory(
        username="fuzz_admin", department=group, is_superuser=True, is_staff=True
    )
    role = make_role("销售代表", *REP_PERMISSIONS, scope=DataScope.OWN)
    rep = UserFactory(username="fuzz_rep", department=east, roles=[role])
    UserFactory(username="fuzz_other", department=east, supervisor=rep)
    _catalogue(rep, admin)
    return admin if request.param == "superuser" else rep


@pytest.fixture(autouse=True)
def keep_connection():
    """The real WSGI handler closes "old" database connections at the start and end of
    each request; inside the test's transaction that would drop the connection, so the
    hook is off while these tests run."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(api_user):
    token, _ = Token.objects.get_or_create(user=api_user)
    return {"Authorization": f"Token {token.key}"}


def _real_id(model, generated: int) -> int:
    ids = sorted(model.objects.values_list("pk", flat=True))
    return ids[generated % len(ids)]


def _use_real_records(case) -> None:
    """Swap generated ids (and versions) for those of real records."""
    model = next(
        (m for prefix, m in PATH_MODELS.items() if case.path.startswith(prefix)),
        None,
    )
    generated = str(case.path_parameters.get("id"))
    if model is not None and generated.isdigit() and int(generated) < 2**63:
        case.path_parameters["id"] = _real_id(model, int(generated))
    if not isinstance(case.body, dict):
        return
    for name, related in BODY_MODELS.items():
        value = case.body.get(name)
        if type(value) is int and value >= 0 and value % 2 == 0:
            case.body[name] = _real_id(related, value)
    version, pk = case.body.get("version"), case.path_parameters.get("id")
    if type(version) is int and version % 3 and model and type(pk) is int:
        current = model.objects.filter(pk=pk).values_list("version", flat=True).first()
        if current is not None:
            case.body["version"] = current


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("CRM_FUZZ_EXAMPLES", "12")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz(case, auth_headers):
    """X2, issue 2 point 11: no request, valid or not, gets a 5xx or an undocumented answer."""
    _use_real_records(case)
    checks = [not_a_server_error, response_schema_conformance]
    if "403" in case.operation.responses.status_codes:
        # Views on crm.core.api.schema.AutoSchema document their error statuses; every
        # status they answer must be documented.
        checks.append(status_code_conformance)
    case.call_and_validate(headers=auth_headers, checks=checks)
