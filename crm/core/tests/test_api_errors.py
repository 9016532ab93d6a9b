"""X2 and issue 2 points 8 and 11: the API's error answers, authentication, schema and docs.

Every error has one shape, {"code", "message", "fields"}, and its status: 400 invalid
input (field by field), 401 no credentials, 403 no permission, 404 unknown or outside the
caller's data scope, 409 stale version, 429 locked out. Bad input is never a 500.
"""

import json
from decimal import Decimal

import pytest
from django.http import Http404
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.core.api.errors import flatten_fields, page_not_found
from crm.core.scopes import DataScope
from crm.core.trees import tree_place
from crm.org.models import User
from crm.org.tests.factories import make_role
from crm.products.models import Category, Product

EMPLOYEES = "/api/v1/org/employees/"
DEPARTMENTS = "/api/v1/org/departments/"
PRODUCTS = "/api/v1/products/products/"
TOKEN = "/api/v1/auth/token/"
PASSWORD = "Pass-word-2026"


def token_client(user) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def assert_error(response, status: int, code: str) -> dict:
    """The response has the status and the one error envelope; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["fields"], dict)
    for name, messages in body["fields"].items():
        assert isinstance(name, str)
        assert messages
        assert all(isinstance(m, str) and m for m in messages)
    return body


@pytest.fixture
def rep(org):
    """A sales rep who may read employees and products, own records only."""
    role = make_role(
        "销售代表",
        "org.view_user",
        "org.view_department",
        "products.view_product",
        "products.change_product",
        scope=DataScope.OWN,
    )
    org.rep_a.groups.set([role])
    return User.objects.get(pk=org.rep_a.pk)


@pytest.fixture
def product(org):
    category = Category.objects.create(name="配件", code="PART")
    tree_place(category)
    return Product.objects.create(
        code="X-001",
        name="液压泵",
        category=category,
        list_price=Decimal("1200.00"),
        cost=Decimal("800.00"),
        owner=org.rep_a,
        department=org.east,
    )


# 400


def test_create_with_bad_data_answers_400_field_by_field(org):
    """Issue 2 point 11: invalid input gets field-level errors."""
    response = token_client(org.admin).post(
        EMPLOYEES,
        {
            "username": "",
            "email": "not-an-e-mail",
            "department": "abc",
            "supervisor": 10**30,
            "password": PASSWORD,
        },
        format="json",
    )
    body = assert_error(response, 400, "invalid")
    assert {"username", "email", "department", "supervisor"} <= set(body["fields"])


def test_service_refusal_answers_400_with_the_field(org):
    """A weak password passes the serializer; the service refuses it per field (Y1)."""
    response = token_client(org.admin).post(
        EMPLOYEES, {"username": "new_rep", "password": "123"}, format="json"
    )
    body = assert_error(response, 400, "invalid")
    assert "password" in body["fields"]


def test_unknown_choice_and_wrong_types_answer_400(org, product):
    client = token_client(org.admin)
    url = f"{PRODUCTS}{product.pk}/"
    cases = [
        ({"type": "spaceship"}, "type"),
        ({"status": ["active"]}, "status"),
        ({"list_price": "cheap"}, "list_price"),
        ({"list_price": {"amount": 1}}, "list_price"),
        ({"category": "first"}, "category"),
        ({"category": True}, "category"),
        ({"category": 2**70}, "category"),
        ({"name": None}, "name"),
        ({"version": "one"}, "version"),
        ({"version": 2**40}, "version"),
    ]
    for change, field in cases:
        data = {"version": product.version, **change}
        body = assert_error(client.patch(url, data, format="json"), 400, "invalid")
        assert field in body["fields"], (change, body)


def test_long_strings_and_null_bytes_answer_400(org, product):
    """10,000 characters and NUL (PostgreSQL refuses NUL in text) are field errors."""
    client = token_client(org.admin)
    url = f"{PRODUCTS}{product.pk}/"
    for value in ["长" * 10_000, "泵\x00泵"]:
        response = client.patch(
            url, {"version": product.version, "name": value}, format="json"
        )
        body = assert_error(response, 400, "invalid")
        assert "name" in body["fields"]
        response = client.post(
            DEPARTMENTS, {"name": value, "kind": "office"}, format="json"
        )
        assert "name" in assert_error(response, 400, "invalid")["fields"]
        response = client.post(
            EMPLOYEES, {"username": value, "password": PASSWORD}, format="json"
        )
        assert "username" in assert_error(response, 400, "invalid")["fields"]
    product.refresh_from_db()
    assert product.name == "液压泵"


def test_bad_query_values_answer_400_not_500(org, product):
    client = token_client(org.admin)
    for url, field in [
        (f"{PRODUCTS}?q=%00", "q"),
        (f"{PRODUCTS}?category=abc", "category"),
        (f"{PRODUCTS}?category=-18446744073709551615", "category"),
        (f"{PRODUCTS}?min_price=cheap", "min_price"),
        (f"{EMPLOYEES}?role=99999999999999999999999", "role"),
        (f"{EMPLOYEES}?department=%00", "department"),
    ]:
        body = assert_error(client.get(url), 400, "invalid")
        assert field in body["fields"], (url, body)


def test_malformed_json_and_non_object_bodies_answer_400(org):
    client = token_client(org.admin)
    response = client.post(
        DEPARTMENTS, '{"name": "华北', content_type="application/json"
    )
    assert_error(response, 400, "invalid")
    response = client.post(DEPARTMENTS, [1, 2], format="json")
    assert "non_field_errors" in assert_error(response, 400, "invalid")["fields"]


def test_patch_without_version_answers_400(org, product):
    response = token_client(org.admin).patch(
        f"{PRODUCTS}{product.pk}/", {"name": "新名称"}, format="json"
    )
    assert "version" in assert_error(response, 400, "invalid")["fields"]


def test_nested_errors_are_flattened_to_dotted_names():
    detail = {
        "name": ["Required."],
        "lines": [{}, {"price": ["Too low.", "Not a number."]}],
        "address": {"city": ["Unknown."]},
    }
    assert flatten_fields(detail) == {
        "name": ["Required."],
        "lines.1.price": ["Too low.", "Not a number."],
        "address.city": ["Unknown."],
    }


# 401


def test_no_credentials_answer_401_with_a_token_challenge(db):
    # /api/schema/ and /api/docs/ are still open: drf-spectacular's SERVE_PERMISSIONS
    # default (AllowAny) is not overridden in config/settings/base.py (reported).
    for url in [EMPLOYEES, f"{PRODUCTS}1/", DEPARTMENTS, TOKEN]:
        response = APIClient().get(url)
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Token"


def test_bad_token_answers_401(org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    response = client.get(EMPLOYEES)
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


def test_deactivated_employee_token_stops_working(org):
    client = token_client(org.rep_c)
    org.rep_c.is_active = False
    org.rep_c.save()
    assert_error(client.get(EMPLOYEES), 401, "authentication_failed")


# 403


def test_without_the_permission_answers_403(org, rep):
    client = token_client(rep)
    response = client.post(
        EMPLOYEES, {"username": "someone", "password": PASSWORD}, format="json"
    )
    assert_error(response, 403, "forbidden")
    assert not User.objects.filter(username="someone").exists()
    assert_error(client.get("/api/v1/products/price-lists/"), 403, "forbidden")
    # no role at all: not even the employee list
    assert_error(token_client(org.rep_c).get(EMPLOYEES), 403, "forbidden")


def test_session_without_csrf_token_is_refused(org):
    """Session-authenticated writes keep CSRF protection (403), token ones need none."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.admin)
    response = client.post(
        DEPARTMENTS,
        json.dumps({"name": "华北", "kind": "branch"}),
        content_type="application/json",
    )
    assert_error(response, 403, "forbidden")


# 404


def test_outside_scope_answers_404_like_a_missing_id(org, rep, product):
    """Y5: a record outside the data scope is indistinguishable from a missing one."""
    client = token_client(rep)
    assert client.get(f"{EMPLOYEES}{rep.pk}/").status_code == 200
    outside = assert_error(client.get(f"{EMPLOYEES}{org.rep_b.pk}/"), 404, "not_found")
    missing = assert_error(client.get(f"{EMPLOYEES}987654/"), 404, "not_found")
    assert outside == missing
    other = Product.objects.create(
        code="X-002", name="齿轮", category=product.category, owner=org.rep_b
    )
    response = client.patch(
        f"{PRODUCTS}{other.pk}/", {"version": 1, "name": "改"}, format="json"
    )
    assert_error(response, 404, "not_found")
    other.refresh_from_db()
    assert other.name == "齿轮"


@pytest.mark.parametrize(
    "pk", ["abc", "-1", "0", "1e3", str(2**63), str(10**30), "%00", "１"]
)
def test_ids_that_are_no_ids_answer_404(org, pk):
    client = token_client(org.admin)
    for base in [EMPLOYEES, DEPARTMENTS, PRODUCTS]:
        assert_error(client.get(f"{base}{pk}/"), 404, "not_found")
    response = client.patch(f"{DEPARTMENTS}{pk}/", {"name": "x"}, format="json")
    assert_error(response, 404, "not_found")


def test_ids_with_a_dot_answer_404(org):
    """The router's id pattern excludes dots: the URL matches nothing, Django's 404."""
    client = token_client(org.admin)
    assert client.get(f"{EMPLOYEES}1.5/").status_code == 404


def test_unmatched_api_urls_get_the_json_envelope_from_the_404_handler(rf):
    """crm.core.api.errors.page_not_found, meant as config/urls.py's handler404."""
    response = page_not_found(rf.get(f"{EMPLOYEES}1.5/"), Http404())
    assert response.status_code == 404
    body = json.loads(response.content)
    assert body["code"] == "not_found"
    assert body["fields"] == {}


# 405, 409


def test_products_cannot_be_deleted_through_the_api(org, product):
    """Business records are deactivated, not deleted: DELETE is not offered (was a 500)."""
    response = token_client(org.admin).delete(f"{PRODUCTS}{product.pk}/")
    assert_error(response, 405, "method_not_allowed")
    assert Product.objects.filter(pk=product.pk).exists()


def test_stale_version_answers_409(org, product):
    """Issue 2 point 8: an update carrying a stale version is refused with 409."""
    client = token_client(org.admin)
    url = f"{PRODUCTS}{product.pk}/"
    first = client.patch(url, {"version": 1, "name": "液压泵 A"}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["version"] == 2
    stale = client.patch(url, {"version": 1, "name": "液压泵 B"}, format="json")
    body = assert_error(stale, 409, "conflict")
    assert "version" in body["fields"]
    product.refresh_from_db()
    assert product.name == "液压泵 A"


# Session and token authentication


def test_session_and_token_authentication_both_work(org, rep, client_for):
    by_session = client_for(rep).get(EMPLOYEES)
    by_token = token_client(rep).get(EMPLOYEES)
    assert by_session.status_code == by_token.status_code == 200
    assert by_session.json() == by_token.json()
    assert [row["username"] for row in by_token.json()["results"]] == ["rep_a"]


def test_token_endpoint_issues_and_revokes_a_token(org, rep):
    client = APIClient()
    response = client.post(
        TOKEN, {"username": "rep_a", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    key = response.json()["token"]
    assert Token.objects.get(user=rep).key == key
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(DEPARTMENTS).status_code == 200
    assert client.delete(TOKEN).status_code == 204
    assert not Token.objects.filter(user=rep).exists()
    assert_error(client.get(DEPARTMENTS), 401, "authentication_failed")
    assert_error(APIClient().delete(TOKEN), 401, "not_authenticated")


def test_token_endpoint_refuses_wrong_passwords_and_bad_input(org):
    client = APIClient()
    response = client.post(
        TOKEN, {"username": "rep_c", "password": "wrong"}, format="json"
    )
    assert "non_field_errors" in assert_error(response, 400, "invalid")["fields"]
    response = client.post(TOKEN, {"username": "rep\x00c"}, format="json")
    body = assert_error(response, 400, "invalid")
    assert {"username", "password"} <= set(body["fields"])
    assert not Token.objects.exists()


def test_token_endpoint_locks_out_after_five_failures(org):
    """Y1: the API login counts towards the same lockout as the login page (django-axes)."""
    client = APIClient()
    answers = [
        client.post(TOKEN, {"username": "rep_c", "password": "wrong"}, format="json")
        for _ in range(5)
    ]
    assert [a.status_code for a in answers[:4]] == [400] * 4
    assert_error(answers[4], 429, "locked_out")
    response = client.post(
        TOKEN, {"username": "rep_c", "password": PASSWORD}, format="json"
    )
    body = assert_error(response, 429, "locked_out")
    assert "15" in body["message"]
    assert response["Retry-After"] == "900"
    assert not Token.objects.filter(user=org.rep_c).exists()
    # another account from the same address is not locked
    response = client.post(
        TOKEN, {"username": "rep_b", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200


# Schema and docs


def test_schema_is_openapi_3_with_every_endpoint_and_its_errors(org):
    response = token_client(org.rep_c).get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in [
        EMPLOYEES,
        f"{EMPLOYEES}{{id}}/",
        DEPARTMENTS,
        f"{DEPARTMENTS}{{id}}/",
        PRODUCTS,
        f"{PRODUCTS}{{id}}/",
        "/api/v1/products/categories/",
        "/api/v1/products/price-lists/",
        TOKEN,
    ]:
        assert path in paths, path
    error = {"$ref": "#/components/schemas/Error"}
    create = paths[EMPLOYEES]["post"]["responses"]
    for status in ["400", "401", "403"]:
        assert create[status]["content"]["application/json"]["schema"] == error
    update = paths[f"{PRODUCTS}{{id}}/"]["patch"]["responses"]
    for status in ["400", "401", "403", "404", "409"]:
        assert update[status]["content"]["application/json"]["schema"] == error
    assert "429" in paths[TOKEN]["post"]["responses"]
    # the fuzz test generates the schema without a caller: it is the one served
    generated = SchemaGenerator().get_schema(request=None, public=True)
    assert json.loads(OpenApiJsonRenderer().render(generated)) == schema


def test_schema_is_the_same_for_every_caller(org, rep):
    """Field rights shape answers, not the documented contract."""
    documents = [
        token_client(user).get("/api/schema/?format=json").content
        for user in (org.admin, rep)
    ]
    assert documents[0] == documents[1]


def test_docs_page_renders_without_any_cdn(org, client_for):
    response = client_for(org.rep_c).get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    for cdn in ["cdn.", "unpkg", "jsdelivr", "cdnjs", "googleapis"]:
        assert cdn not in html
    assert "https://" not in html
    assert "http://" not in html.replace("http://testserver", "")
