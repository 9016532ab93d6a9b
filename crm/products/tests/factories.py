"""Factories for the product catalogue: the smallest valid categories, products, price lists."""

from decimal import Decimal

import factory

from crm.core.trees import tree_place
from crm.products.models import Category, PriceList, PriceListItem, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"类别{n}")

    @factory.post_generation
    def place(obj, create, extracted, **kwargs):
        if create:
            tree_place(obj)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P-{n:04d}")
    name = factory.Sequence(lambda n: f"产品{n}")
    category = factory.SubFactory(CategoryFactory)
    list_price = Decimal("100.00")
    cost = Decimal("60.00")


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    name = factory.Sequence(lambda n: f"价目表{n}")


class PriceListItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceListItem

    price_list = factory.SubFactory(PriceListFactory)
    product = factory.SubFactory(ProductFactory)
    price = Decimal("90.00")
    min_quantity = Decimal("1")
