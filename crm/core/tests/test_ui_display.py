"""X1 display rules shared by every page: numbers, money, dates, status badges, the menu,
and the home dashboard, whose counts must stay inside the user's data scope (Y5)."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.menu import menu_for
from crm.core.params import params_update
from crm.core.scopes import DataScope
from crm.core.templatetags.crm_ui import (
    display,
    money,
    num,
    qty,
    shown_changes,
    status_tone,
    tree_totals,
    when,
)
from crm.org.tests.factories import UserFactory, make_role


def test_numbers_get_thousands_separators_and_keep_their_decimals():
    assert num(Decimal("1234567.5")) == "1,234,567.50"
    assert num(Decimal("741.000000")) == "741.00"
    assert num(Decimal("0.125000")) == "0.125"
    assert num(1234567) == "1,234,567"
    assert num(None) == ""


def test_quantities_drop_trailing_zeros():
    assert qty(Decimal("1.000")) == "1"
    assert qty(Decimal("12500.500")) == "12,500.5"
    assert qty(Decimal("10")) == "10"  # normalize() alone gives 1E+1
    assert qty(Decimal("1200.0000")) == "1,200"


@pytest.mark.django_db
def test_money_follows_the_decimal_places_parameter(org):
    """Y2: product prices show as many decimals as the system parameter says."""
    assert money(Decimal("1234.5")) == "1,234.50"
    params_update(actor=org.admin, values={"decimals_product": 0})
    assert money(Decimal("1234.5")) == "1,235"


def test_dates_are_local_and_unambiguous(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    moment = datetime.datetime(2026, 3, 1, 16, 30, tzinfo=datetime.UTC)
    assert when(moment) == "2026-03-02 00:30"
    assert when(datetime.date(2026, 3, 1)) == "2026-03-01"
    assert display(None) == "—"


def test_status_badges_have_a_tone_per_meaning():
    assert status_tone("active") == "success"
    assert status_tone("failed") == "danger"
    assert status_tone("inactive") == "secondary"
    assert status_tone("something-new") == "primary"


@pytest.mark.django_db
def test_only_the_most_specific_menu_item_is_active(org):
    sections = menu_for(org.admin, reverse("products:category-tree"))
    active = [i["url"] for s in sections for i in s["items"] if i["active"]]
    assert active == [reverse("products:category-tree")]


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_dashboard_counts_only_records_in_the_users_scope(
    org, make_product, client_for
):
    """Y5: the home page counts what the user may see, nothing more."""
    for owner in (org.rep_a, org.rep_a, org.rep_b, org.rep_c, org.manager):
        make_product(owner)
    role = make_role("销售代表", "products.view_product", scope=DataScope.OWN)
    rep = UserFactory(department=org.east, roles=[role])
    make_product(rep)

    own = client_for(rep).get(reverse("home"))
    everything = client_for(org.admin).get(reverse("home"))

    assert own.status_code == everything.status_code == 200
    assert _card(own, "Products") == "1"
    assert _card(everything, "Products") == "6"
    assert "Roles &amp; permissions" not in own.content.decode()


def _card(response, label: str) -> str:
    """The number shown on the dashboard card with this label."""
    html = response.content.decode()
    start = html.index(f'data-label="{label}"')
    value = html.index('class="crm-stat-value"', start)
    return html[html.index(">", value) + 1 : html.index("<", value)].strip()


@pytest.mark.django_db
def test_history_shows_field_names_and_formatted_values(org, make_product, client_for):
    """Y7: the history tab names changed fields as users know them."""
    product = make_product(org.admin)
    from crm.products.services import product_update

    product_update(
        actor=org.admin,
        obj=product,
        data={"list_price": Decimal("23456.7")},
        version=product.version,
    )
    page = client_for(org.admin).get(
        reverse("products:product-detail", args=[product.pk])
    )
    html = page.content.decode()
    assert "标准价" in html  # "list price" in the default language
    assert "23,456.70" in html
    assert timezone.localtime().strftime("%Y-%m-%d") in html


def test_tree_chart_sums_each_branch_below_a_single_root():
    """The tree pages' chart shows each first-level unit with everything below it."""

    def item(name, count, *children):
        node = type("Node", (), {"name": name, "employee_count": count})()
        return {"node": node, "children": list(children)}

    tree = [item("集团", 1, item("华东", 2, item("上海", 3)), item("华南", 4))]
    assert tree_totals(tree) == [
        {"name": "华东", "value": 5},
        {"name": "华南", "value": 4},
    ]


def test_history_of_lists_and_mappings_shows_only_what_changed():
    """Y7: a role's history names the permissions and scopes that changed, not all of them."""
    event = SimpleNamespace(
        content_type_id=None,
        visible_changes={
            "permissions": [["a.view", "b.view"], ["b.view", "c.view"]],
            "data_scopes": [
                {"org": "all", "products": "own"},
                {"org": "all", "products": "all"},
            ],
        },
    )
    assert shown_changes(event) == [
        ("permissions", ["a.view"], ["c.view"]),
        ("data_scopes", {"products": "own"}, {"products": "all"}),
    ]
