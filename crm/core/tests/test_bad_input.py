"""Bad input gets a clear error, never a 500: list queries and money amounts."""

from decimal import Decimal

import pytest

from crm.core.errors import Invalid
from crm.core.money import round_money


@pytest.mark.parametrize("url", ["/org/employees/", "/products/", "/customers/"])
@pytest.mark.django_db
def test_a_nul_character_in_a_list_search_is_refused_not_a_server_error(
    org, client_for, url
):
    response = client_for(org.admin).get(url, {"q": "a\x00b"})
    assert response.status_code == 302  # back where the user was, with the message
    page = client_for(org.admin).get(url, {"q": "ab"})
    assert page.status_code == 200


@pytest.mark.django_db
def test_a_nul_character_in_an_export_filter_is_refused(org, client_for):
    response = client_for(org.admin).get(
        "/export/products.product/", {"format": "csv", "q": "\x00"}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_money_too_large_for_its_column_is_refused_naming_the_field():
    with pytest.raises(Invalid) as error:
        round_money(Decimal("1e30"), "product", field="list_price")
    assert "list_price" in error.value.fields
    with pytest.raises(Invalid):
        round_money("abc", "order")
    with pytest.raises(Invalid):
        round_money(Decimal("NaN"), "order")
    assert round_money(Decimal("99999999999999.994"), "order") == Decimal(
        "99999999999999.99"
    )


@pytest.mark.django_db
def test_a_huge_price_in_a_product_form_is_a_field_error(org, client_for):
    from crm.products.models import Category

    category = Category.objects.create(name="测试", path="/", depth=0)
    response = client_for(org.admin).post(
        "/products/new/",
        {
            "code": "P-HUGE",
            "name": "巨型",
            "category": category.pk,
            "type": "own",
            "unit": "台",
            "list_price": "1" + "0" * 17,
            "cost": "0",
            "status": "active",
        },
    )
    assert response.status_code == 400
    assert b"P-HUGE" in response.content  # the input is kept
