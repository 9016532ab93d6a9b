"""D3 isolation, checked generically so that pages and endpoints added later are covered
without touching this file:

- every portal page (namespace "portal") and every portal API endpoint (/api/v1/portal/)
  with id parts is opened as partner_a's admin with the ids of partner_c's records of
  EVERY channel model that points at a partner: 404 each time (405 only where the method
  is not allowed). partner_a owns no record with those ids, so any other answer leaks;
- portal pages without ids open for partner users and are 404 for HQ users;
- every HQ page and HQ API endpoint is 404 for a partner user's session, and 403/404
  for the partner user's API token."""

import datetime
import itertools
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter
from django.utils import timezone
from rest_framework.authtoken.models import Token

from crm.channels.models import Partner
from crm.customers.models import Region

# Every record made for partner_c has this one id (in its own table), far above
# anything partner_a owns: one request per URL then tries partner_c's record of every
# model at once.
C_ID = 900_001
GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


# Walking the URL resolver


def walk(resolver=None, prefix="", namespace=""):
    """(path regex, namespace, pattern) of every URL pattern, recursively."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        regex = entry.pattern.regex.pattern.lstrip("^")
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from walk(entry, prefix + regex.removesuffix("\\Z"), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + regex, namespace, entry


def converters(entry) -> dict:
    return getattr(entry.pattern, "converters", {}) or {}


def fill(regex: str, value) -> str | None:
    """The path with every named group replaced by `value`; None if it is not a plain
    path then (format suffixes, optional parts)."""
    path = GROUP.sub(str(value), regex)
    path = path.replace("\\Z", "").replace("$", "").replace("\\.", ".")
    path = path.replace("\\-", "-").replace("\\/", "/")
    if any(ch in path for ch in "()[]?*+^\\|"):
        return None
    return "/" + path


def kwarg_names(regex: str) -> list[str]:
    return GROUP.findall(regex)


def portal_pages():
    return [
        (regex, entry)
        for regex, ns, entry in walk()
        if ns == "portal" or regex.startswith("portal/")
    ]


def portal_api():
    return [
        (regex, entry)
        for regex, _ns, entry in walk()
        if regex.startswith("api/v1/portal/")
    ]


OPEN_TO_PARTNERS = (
    "portal/",
    "api/v1/portal/",
    "api/v1/auth/",
    "accounts/",
    "i18n/",
    "static/",
    "healthz",
    "media/",
)


def hq_patterns():
    return [
        (regex, entry)
        for regex, _ns, entry in walk()
        if regex not in ("", "\\Z") and not regex.startswith(OPEN_TO_PARTNERS)
    ]


# One record of every channel model that points at a partner, for partner_c


def partner_models():
    """Every channels model with a foreign key to Partner (and Partner itself)."""
    return [
        model
        for model in apps.get_app_config("channels").get_models()
        if model is Partner
        or any(
            isinstance(f, models.ForeignKey) and f.related_model is Partner
            for f in model._meta.concrete_fields
        )
    ]


class Maker:
    """Makes a valid row of any model via the ORM: required foreign keys point at
    partner_c's world (its partner, its manager, rows made here), other required
    fields get plain values that satisfy the usual checks (dates equal, amounts 1)."""

    def __init__(self, org):
        self.org = org
        self.made: dict[type, models.Model] = {}
        self.counter = itertools.count(1)

    def related(self, field):
        model = field.related_model
        if model is Partner:
            return self.partner_c
        if model in self.made:
            return self.made[model]
        label = model._meta.label_lower
        if label == "customers.region":
            return Region.objects.get(code="440100")
        if model._meta.app_label == "org" and model.__name__ == "User":
            return self.org.mgr_c
        if label == "products.product":
            return self.org.catalogue.p1
        if label == "products.category":
            return self.org.catalogue.excavators
        if label == "products.pricelist":
            return self.org.catalogue.price_list
        existing = model._default_manager.first()
        if existing is not None and model._meta.app_label != "channels":
            return existing
        return self.make(model)

    def value(self, field):
        n = next(self.counter)
        today = timezone.localdate()
        if field.choices:
            return field.choices[0][0]
        if isinstance(field, models.BooleanField):
            return False
        if isinstance(field, models.DecimalField):
            return Decimal("1")
        if isinstance(field, models.IntegerField | models.FloatField):
            return 1
        if isinstance(field, models.DateTimeField):
            return timezone.now()
        if isinstance(field, models.DateField):
            return today
        if isinstance(field, models.TimeField):
            return datetime.time(9)
        if isinstance(field, models.EmailField):
            return f"x{n}@example.com"
        if isinstance(field, models.JSONField):
            return field.get_default()
        if isinstance(field, models.GenericIPAddressField):
            return "127.0.0.1"
        if isinstance(field, models.CharField | models.TextField):
            text = f"iso{n}"
            return text[: field.max_length] if field.max_length else text
        return field.get_default()

    def make(self, model):
        if model in self.made:
            return self.made[model]
        values = {"pk": C_ID}
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            if isinstance(field, models.ForeignKey):
                if field.related_model is Partner and field.name != "parent":
                    values[field.name] = self.partner_c
                elif not field.null:
                    values[field.name] = self.related(field)
                continue
            if not field.unique and (field.has_default() or field.null or field.blank):
                continue
            values[field.name] = self.value(field)
        obj = model._default_manager.create(**values)
        self.made[model] = obj
        return obj


@pytest.fixture
def isolation(channel_org):
    org = channel_org
    maker = Maker(org)
    maker.partner_c = org.partner_c
    # A partner of partner_c's own network, with a big id too.
    child = Partner.objects.create(
        pk=C_ID,
        number="QD900001",
        name="粤达下级",
        owner=org.mgr_c,
        parent=org.partner_c,
        path=f"/{org.partner_c.pk}/{C_ID}/",
    )
    maker.made[Partner] = child
    for model in partner_models():
        maker.make(model)
    org.c_ids = sorted({obj.pk for obj in maker.made.values()} | {org.partner_c.pk})
    org.c_models = sorted(m.__name__ for m in maker.made)
    return org


def test_the_fixture_covers_every_partner_model(isolation):
    names = {m.__name__ for m in partner_models()}
    assert names <= set(isolation.c_models)
    assert {"Partner", "PartnerUser", "Territory", "ApiKey"} <= names
    # partner_a owns nothing with those ids: any answer but 404 leaks.
    for model in partner_models():
        field = "pk" if model is Partner else "partner"
        if model is Partner:
            continue
        assert not model._default_manager.filter(
            **{field: isolation.partner_a}, pk__gte=C_ID
        ).exists()


@pytest.fixture
def client_for():
    """Logged-in clients that answer 500 instead of raising, so one broken page is
    listed among the failures rather than hiding the others."""

    def make(user):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        return client

    return make


def _check(client, method, path, allowed, failures):
    response = getattr(client, method)(path)
    if response.status_code not in allowed:
        failures.append(f"{method.upper()} {path} → {response.status_code}")


def test_portal_pages_give_404_for_another_partners_ids(isolation, client_for):
    client = client_for(isolation.pa_admin)
    failures, checked = [], 0
    for regex, entry in portal_pages():
        names = kwarg_names(regex)
        if not names:
            continue
        if any(not isinstance(converters(entry).get(n), IntConverter) for n in names):
            continue
        for pk in isolation.c_ids:
            path = fill(regex, pk)
            if path is None:
                continue
            checked += 1
            _check(client, "get", path, (404, 405), failures)
            _check(client, "post", path, (404, 405), failures)
    assert not failures, "\n".join(failures)
    assert checked > 0


def test_portal_pages_without_ids_are_for_partner_users_only(isolation, client_for):
    admin, user = client_for(isolation.pa_admin), client_for(isolation.pa_user)
    hq = [client_for(isolation.mgr_a), client_for(isolation.admin)]
    failures, checked = [], 0
    for regex, _entry in portal_pages():
        if kwarg_names(regex):
            continue
        path = fill(regex, 0)
        if path is None:
            continue
        checked += 1
        _check(admin, "get", path, (200, 302), failures)
        # Admin-only pages are not found for a plain partner user.
        _check(user, "get", path, (200, 302, 404), failures)
        for client in hq:
            _check(client, "get", path, (404,), failures)
            _check(client, "post", path, (404, 405), failures)
    assert not failures, "\n".join(failures)
    assert checked > 0
    assert admin.get("/portal/").status_code == 200
    assert user.get("/portal/").status_code == 200


def test_portal_api_gives_404_for_another_partners_ids(isolation):
    token = Token.objects.create(user=isolation.pa_admin)
    client = Client(
        raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    session = Client(raise_request_exception=False)
    session.force_login(isolation.pa_admin)
    failures, checked = [], 0
    for regex, _entry in portal_api():
        if not kwarg_names(regex) or "format" in kwarg_names(regex):
            continue
        for pk in isolation.c_ids:
            path = fill(regex, pk)
            if path is None:
                continue
            checked += 1
            for method in ("get", "post", "put", "patch", "delete"):
                _check(client, method, path, (404, 405), failures)
            _check(session, "get", path, (404, 405), failures)
    assert not failures, "\n".join(failures)
    assert checked > 0


def test_portal_api_is_for_partner_users_only(isolation, client_for):
    failures, checked = [], 0
    hq = [client_for(isolation.mgr_a), client_for(isolation.admin)]
    partner = client_for(isolation.pa_admin)
    for regex, _entry in portal_api():
        path = fill(regex, isolation.c_ids[0])
        if path is None or "format" in kwarg_names(regex):
            continue
        checked += 1
        for client in hq:
            _check(client, "get", path, (403, 404, 405), failures)
        if not kwarg_names(regex):
            _check(partner, "get", path, (200, 405), failures)
    assert not failures, "\n".join(failures)
    assert checked > 0


def test_partner_users_never_reach_an_hq_page_or_api(isolation, client_for):
    session = client_for(isolation.pa_admin)
    token = Token.objects.create(user=isolation.pa_admin)
    api = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {token.key}")
    failures, checked = [], 0
    for regex, _entry in hq_patterns():
        if "format" in kwarg_names(regex):
            continue
        path = fill(regex, isolation.partner_a.pk)
        if path is None:
            continue
        checked += 1
        _check(session, "get", path, (404,), failures)
        if path.startswith("/api/"):
            _check(api, "get", path, (404,), failures)
            _check(api, "post", path, (404,), failures)
    assert not failures, "\n".join(failures)
    assert checked > 100
