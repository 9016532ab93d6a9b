"""X2 / issue 2 point 11: a schemathesis pass over the OpenAPI schema finds no 5xx.

Every operation of /api/schema/ is called with generated data, valid and invalid, through
the real WSGI application, as a superuser and as a sales rep who sees only their own
records (token authentication). Checks: no server error, every status is documented, and
every response body matches its documented schema (the error envelope included).

Generated ids are mostly unknown, so positive ids in paths (a sub-resource's among the
record's own: a quote's lines, a contract's instalments…), and two thirds of those in
foreign-key fields of bodies (nested ones and lists of ids included), are swapped for ids
of real records (inside and outside the rep's scope, taking turns over the records), and
two thirds of the generated versions for the record's current one; half of the malformed
amounts become plausible ones. That way creates, updates and status changes really run,
with generated values, down to the database. Unknown ids still come as negative numbers,
huge numbers and strings. The customers and sales operations get customers and every
sales record in the states their actions start from (fuzz_sales_data.py).
"""

import collections
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
from crm.core.tests.fuzz_sales_data import build_sales
from crm.core.trees import tree_place
from crm.customers.models import Activity, Contact, Customer, Region
from crm.org.models import Department, Role, User
from crm.org.tests.factories import DepartmentFactory, UserFactory, make_role
from crm.products.models import Category, PriceList, PriceListItem, Product
from crm.sales.models import (
    CommissionLine,
    CommissionPeriod,
    CommissionRule,
    Competitor,
    Contract,
    ContractAttachment,
    ContractLine,
    Instalment,
    Lead,
    Opportunity,
    OpportunityProduct,
    Payment,
    Quote,
    QuoteLine,
    SalesOrder,
    SalesOrderLine,
    SalesTarget,
    Stage,
)
from crm.sales.tests.conftest import sales_perms


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
    # A sales rep: every sales record in their own scope, and the customers' records.
    *sales_perms("view", "add", "change"),
    "sales.view_commissionrule",
    "customers.view_customer",
    "customers.view_contact",
    "customers.view_activity",
)

# Which model a path's {id} points at (the first matching prefix).
PATH_MODELS = {
    "/api/v1/org/departments/": Department,
    "/api/v1/org/employees/": User,
    "/api/v1/products/categories/": Category,
    "/api/v1/products/price-lists/": PriceList,
    "/api/v1/products/products/": Product,
    "/api/v1/customers/customers/": Customer,
    "/api/v1/customers/contacts/": Contact,
    "/api/v1/customers/activities/": Activity,
    "/api/v1/customers/pool/": Customer,
    "/api/v1/sales/leads/": Lead,
    "/api/v1/sales/opportunities/": Opportunity,
    "/api/v1/sales/stages/": Stage,
    "/api/v1/sales/competitors/": Competitor,
    "/api/v1/sales/quotes/": Quote,
    "/api/v1/sales/contracts/": Contract,
    "/api/v1/sales/orders/": SalesOrder,
    "/api/v1/sales/payments/": Payment,
    "/api/v1/sales/receivables/": Instalment,
    "/api/v1/sales/commission-rules/": CommissionRule,
    "/api/v1/sales/commission-periods/": CommissionPeriod,
    "/api/v1/sales/commission-lines/": CommissionLine,
    "/api/v1/sales/targets/": SalesTarget,
}
# A sub-resource's id in the path: its model and the field linking it to the {id}
# record, whose own sub-records are chosen first.
SUB_MODELS = {
    ("/api/v1/sales/quotes/", "line_id"): (QuoteLine, "quote"),
    ("/api/v1/sales/opportunities/", "line_id"): (OpportunityProduct, "opportunity"),
    ("/api/v1/sales/contracts/", "line_id"): (ContractLine, "contract"),
    ("/api/v1/sales/contracts/", "instalment_id"): (Instalment, "contract"),
    ("/api/v1/sales/contracts/", "attachment_id"): (ContractAttachment, "contract"),
    ("/api/v1/sales/orders/", "line_id"): (SalesOrderLine, "order"),
}
# Which model a body's foreign key (or list of them) points at, by field name…
BODY_MODELS = {
    "parent": Department,
    "department": Department,
    "supervisor": User,
    "category": Category,
    "product": Product,
    "price_list": PriceList,
    "owner": User,
    "employee": User,
    "responsible": User,
    "role": Role,
    "region": Region,
    "customer": Customer,
    "merged": Customer,
    "contact": Contact,
    "opportunity": Opportunity,
    "stage": Stage,
    "competitors": Competitor,
    "lost_to": Competitor,
    "quote": Quote,
    "contract": Contract,
    "instalment": Instalment,
}
# Money, quantity and percentage fields (strings of a decimal number).
DECIMAL_FIELDS = {
    "amount",
    "quantity",
    "unit_price",
    "discount_percent",
    "tax_rate",
    "rate",
    "price",
    "min_quantity",
    "credit_limit",
    "list_price",
    "cost",
    "order_target",
    "collection_target",
}
# …unless the operation's path (the first matching prefix) says otherwise; a pair
# (model, link) prefers the records linked to the path's {id} record.
BODY_MODELS_BY_PATH = (
    ("/api/v1/products/categories/", {"parent": Category}),
    ("/api/v1/customers/customers/", {"parent": Customer}),
    ("/api/v1/customers/contacts/", {"supervisor": Contact}),
    ("/api/v1/sales/orders/from-contract/", {"line": ContractLine}),
    ("/api/v1/sales/orders/", {"line": (SalesOrderLine, "order")}),
)


def _catalogue(owner, other_owner):
    """A category tree, products of two owners, a price list with items; answers the
    products, the price list and the products' category."""
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
    return products, price_list, child


@pytest.fixture(params=["superuser", "rep"])
def api_user(request, db, settings, tmp_path):
    group = DepartmentFactory(name="集团", kind="group")
    east = DepartmentFactory(name="华东", kind="branch", parent=group)
    DepartmentFactory(name="浦东办事处", kind="office", parent=east)
    admin = UserFactory(
        username="fuzz_admin", department=group, is_superuser=True, is_staff=True
    )
    role = make_role("销售代表", *REP_PERMISSIONS, scope=DataScope.OWN)
    rep = UserFactory(username="fuzz_rep", department=east, roles=[role])
    other = UserFactory(username="fuzz_other", department=east, supervisor=rep)
    products, price_list, category = _catalogue(rep, admin)
    if any(f"/api/v1/{app}/" in request.node.name for app in ("customers", "sales")):
        # Only their operations need them (the records cost time for each operation).
        settings.MEDIA_ROOT = tmp_path  # contract attachments, uploaded ones too
        build_sales(
            rep=rep,
            other=other,
            admin=admin,
            products=products,
            price_list=price_list,
            category=category,
            role=role,
        )
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


# How many ids of each model this test has handed out: successive calls take turns over
# the records, so the few small numbers generated most often still reach every record
# (and every state an action starts from), not the first one again and again.
_turns: collections.Counter = collections.Counter()


@pytest.fixture(autouse=True)
def _fresh_turns():
    _turns.clear()


def _real_id(related, generated: int, path_id=None) -> int:
    """The id of a real record of `related` (a model, or a pair (model, link) whose
    records linked to the path's record come first), by the generated number and the
    model's turn."""
    model, link = related if isinstance(related, tuple) else (related, None)
    records = model.objects.all()
    if link and path_id is not None and records.filter(**{link: path_id}).exists():
        records = records.filter(**{link: path_id})
    ids = sorted(records.values_list("pk", flat=True))
    if not ids:
        return generated
    _turns[model] += 1
    return ids[(generated + _turns[model]) % len(ids)]


def _first(mapping, path: str):
    return next((value for prefix, value in mapping if path.startswith(prefix)), None)


def _swappable(value) -> bool:
    """A generated id to swap: two thirds of the non-negative ones (2, 5, 8… stay)."""
    return type(value) is int and value >= 0 and value % 3 != 2


def _is_decimal(value: str) -> bool:
    try:
        return Decimal(value).is_finite()
    except ArithmeticError:
        return False


def _use_real_ids(body: dict, models: dict, path_id) -> None:
    """Swap the foreign keys of a body (and of the objects nested in it), and half of
    the malformed amounts for a plausible one."""
    for name, value in body.items():
        related = models.get(name)
        if isinstance(value, dict):
            _use_real_ids(value, models, path_id)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    _use_real_ids(item, models, path_id)
                elif related is not None and _swappable(item):
                    value[index] = _real_id(related, item, path_id)
        elif related is not None and _swappable(value):
            body[name] = _real_id(related, value, path_id)
        elif (
            name in DECIMAL_FIELDS
            and isinstance(value, str)
            and len(value) % 2 == 0
            and not _is_decimal(value)
        ):
            # The documented pattern lets "", "-" and "." through, and those are what
            # is generated most: hardly any amount would be valid otherwise.
            body[name] = f"{len(value) // 2 + 1}00.00"


def _use_real_records(case) -> None:
    """Swap generated ids (and versions) for those of real records."""
    model = _first(PATH_MODELS.items(), case.path)
    params = case.path_parameters or {}
    pk = None  # the path's record, once it is a real one
    generated = str(params.get("id"))
    if model is not None and generated.isdigit() and int(generated) < 2**63:
        pk = params["id"] = _real_id(model, int(generated))
    for name, generated in list(params.items()):
        related = _first(
            ((prefix, m) for (prefix, param), m in SUB_MODELS.items() if param == name),
            case.path,
        )
        generated = str(generated)
        if related and generated.isdigit() and int(generated) < 2**63:
            params[name] = _real_id(related, int(generated), pk)
    if isinstance(case.body, dict):
        models = BODY_MODELS | (_first(BODY_MODELS_BY_PATH, case.path) or {})
        _use_real_ids(case.body, models, pk)
    if pk is None or not any(f.name == "version" for f in model._meta.get_fields()):
        return
    # Versions, in the body or (for a delete) in the query.
    for values in (case.body, case.query):
        version = values.get("version") if isinstance(values, dict) else None
        if type(version) is int and version % 3:
            current = model.objects.filter(pk=pk).values_list("version", flat=True)
            if current:
                values["version"] = current[0]


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
