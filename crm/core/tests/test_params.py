"""Y2 system parameters (validated per field, cached, audited, an edit page) and the money
helper that rounds by them."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from crm.core.errors import Forbidden, Invalid
from crm.core.models import AuditEvent, SystemParameter
from crm.core.money import round_money
from crm.core.params import REGISTRY, all_params, get_param, params_update
from crm.org.tests.factories import make_role

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def sysadmin(org):
    org.rep_c.groups.set([make_role("system", "core.manage_system")])
    return org.rep_c


def _param_events():
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(SystemParameter)
    )


def test_defaults_before_anything_is_stored(db):
    assert get_param("decimals_product") == 2
    assert get_param("receivable_reminder_days") == 7
    with pytest.raises(KeyError):
        get_param("no_such_parameter")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("decimals_product", "7"),
        ("decimals_order", "-1"),
        ("decimals_quote", "two"),
        ("admin_email", "not-an-address"),
        ("birthday_reminder_days", "61"),
    ],
)
def test_invalid_value_is_refused_on_its_field(sysadmin, key, value):
    with pytest.raises(Invalid) as refused:
        params_update(
            actor=sysadmin, values={key: value, "receivable_reminder_days": "10"}
        )
    assert list(refused.value.fields) == [key]
    assert refused.value.fields[key][0]
    # nothing stored, not even the valid value submitted with it
    assert not SystemParameter.objects.exists()
    assert get_param("receivable_reminder_days") == 7


def test_every_invalid_field_gets_its_own_error(sysadmin):
    with pytest.raises(Invalid) as refused:
        params_update(
            actor=sysadmin,
            values={"decimals_contract": "7", "admin_email": "x@", "company_name": "A"},
        )
    assert set(refused.value.fields) == {"decimals_contract", "admin_email"}


def test_update_stores_invalidates_the_cache_and_audits(sysadmin):
    assert get_param("decimals_product") == 2  # now cached

    params_update(
        actor=sysadmin,
        values={"decimals_product": "4", "admin_email": "it@example.cn"},
    )

    assert get_param("decimals_product") == 4
    assert get_param("admin_email") == "it@example.cn"
    assert SystemParameter.objects.get(key="decimals_product").value == 4
    events = {e.object_repr: e for e in _param_events()}
    assert set(events) == {"decimals_product", "admin_email"}
    event = events["decimals_product"]
    assert event.actor == sysadmin
    assert event.action == AuditEvent.Action.UPDATE
    assert event.changes["value"] == [2, 4]
    assert events["admin_email"].changes["value"] == [
        "admin@example.com",
        "it@example.cn",
    ]


def test_second_update_records_the_stored_value_as_before(sysadmin):
    params_update(actor=sysadmin, values={"decimals_order": "3"})
    params_update(actor=sysadmin, values={"decimals_order": "5"})
    latest = _param_events().first()
    assert latest.changes["value"] == [3, 5]
    assert get_param("decimals_order") == 5


def test_unchanged_values_write_no_audit_rows(sysadmin):
    """Saving the page without changing anything leaves no noise in the history."""
    params_update(actor=sysadmin, values={k: p.default for k, p in REGISTRY.items()})
    assert not _param_events().exists()
    params_update(actor=sysadmin, values={"decimals_quote": "3"})
    params_update(actor=sysadmin, values={"decimals_quote": "3"})
    assert _param_events().count() == 1


def test_update_needs_manage_system(org):
    with pytest.raises(Forbidden):
        params_update(actor=org.rep_a, values={"decimals_product": "3"})
    assert get_param("decimals_product") == 2


def _form(**changes):
    values = {k: str(v) for k, v in all_params().items()}
    values.update(changes)
    return values


def test_page_requires_manage_system(org, client_for):
    client = client_for(org.rep_a)
    assert client.get("/system/parameters/").status_code == 403
    response = client.post("/system/parameters/", _form(decimals_product="3"))
    assert response.status_code == 403
    assert get_param("decimals_product") == 2


def test_page_shows_and_saves_parameters(sysadmin, client_for):
    client = client_for(sysadmin)
    page = client.get("/system/parameters/")
    assert page.status_code == 200
    assert 'name="decimals_product"' in page.content.decode()

    response = client.post("/system/parameters/", _form(decimals_product="3"))

    assert response.status_code == 302
    assert get_param("decimals_product") == 3
    history = client.get("/system/parameters/").content.decode()
    assert "decimals_product" in history


def test_page_shows_field_errors_with_400(sysadmin, client_for):
    response = client_for(sysadmin).post(
        "/system/parameters/",
        _form(decimals_product="7", admin_email="not-an-address"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Must be at most 6." in html
    assert "Enter a valid e-mail address." in html
    assert 'value="7"' in html  # the input is kept for correction
    assert get_param("decimals_product") == 2
    assert not SystemParameter.objects.exists()


# Money (Y2 decimal places, ROUND_HALF_UP)


def test_round_money_half_up_to_the_parameter(sysadmin):
    assert round_money(Decimal("2.345"), "product") == Decimal("2.35")
    assert round_money(Decimal("2.344"), "product") == Decimal("2.34")
    assert round_money(Decimal("-2.345"), "product") == Decimal("-2.35")
    assert round_money("10", "product") == Decimal("10.00")
    assert str(round_money(3, "product")) == "3.00"


def test_round_money_zero_places(sysadmin):
    params_update(actor=sysadmin, values={"decimals_order": "0"})
    assert round_money(Decimal("2.5"), "order") == Decimal("3")
    assert str(round_money(Decimal("1234.49"), "order")) == "1234"


def test_round_money_six_places(sysadmin):
    params_update(actor=sysadmin, values={"decimals_contract": "6"})
    assert round_money(Decimal("1.23456789"), "contract") == Decimal("1.234568")
    assert str(round_money(Decimal("1.0000005"), "contract")) == "1.000001"


def test_round_money_follows_each_document_type(sysadmin):
    params_update(actor=sysadmin, values={"decimals_quote": "1"})
    assert round_money(Decimal("2.345"), "quote") == Decimal("2.3")
    assert round_money(Decimal("2.345"), "product") == Decimal("2.35")


def test_round_money_refuses_floats_and_unknown_kinds(db):
    with pytest.raises(TypeError):
        round_money(2.345, "product")
    with pytest.raises(ValueError, match="unknown money kind"):
        round_money(Decimal("1"), "invoice")
