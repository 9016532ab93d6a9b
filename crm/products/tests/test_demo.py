"""Demo catalogue (Y6, issue 2 point 10): ~200 products in categories, idempotent."""

import re

import pytest

from crm.products import demo
from crm.products.models import Category, PriceList, PriceListItem, Product

pytestmark = pytest.mark.django_db


def counts():
    return (
        Category.objects.count(),
        Product.objects.count(),
        PriceList.objects.count(),
        PriceListItem.objects.count(),
    )


def test_demo_catalogue_loads_twice_without_duplicates():
    demo.load()
    first = counts()
    demo.load()
    assert counts() == first
    _categories, products, price_lists, prices = first
    assert 180 <= products <= 220
    assert price_lists == 3
    assert prices > products
    assert Category.objects.filter(depth=2).exists()  # a tree, not a flat list
    assert not Product.objects.filter(category__children__isnull=False).exists()
    assert {t for t, _ in Product.Type.choices} == set(
        Product.objects.values_list("type", flat=True)
    )
    chinese = re.compile(r"[\u4e00-\u9fff]")
    assert all(
        chinese.search(name) for name in Product.objects.values_list("name", flat=True)
    )


def test_demo_prices_follow_the_price_lists_and_list_prices():
    demo.load()
    product = Product.objects.filter(type=Product.Type.OWN, status="active").first()
    dealer = PriceList.objects.get(name="2026年经销商价")
    tiers = dict(
        dealer.items.filter(product=product).values_list("min_quantity", "price")
    )
    assert sorted(tiers) == [1, 10, 50]
    assert tiers[1] < product.list_price
    assert tiers[50] < tiers[10] < tiers[1]
