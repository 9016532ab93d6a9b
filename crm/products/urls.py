from django.urls import path

from crm.products.web import views

app_name = "products"
urlpatterns = [
    path("", views.ProductListView.as_view(), name="product-list"),
    path("new/", views.ProductFormView.as_view(), name="product-create"),
    path("<int:pk>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("<int:pk>/edit/", views.ProductFormView.as_view(), name="product-edit"),
    path("<int:pk>/copy/", views.product_copy, name="product-copy"),
    path("categories/", views.category_tree, name="category-tree"),
    path("categories/new/", views.CategoryFormView.as_view(), name="category-create"),
    path(
        "categories/<int:pk>/",
        views.CategoryDetailView.as_view(),
        name="category-detail",
    ),
    path(
        "categories/<int:pk>/edit/",
        views.CategoryFormView.as_view(),
        name="category-edit",
    ),
    path(
        "categories/<int:pk>/deactivate/",
        views.category_deactivate,
        name="category-deactivate",
    ),
    path(
        "categories/<int:pk>/activate/",
        views.category_activate,
        name="category-activate",
    ),
    path("price-lists/", views.PriceListListView.as_view(), name="pricelist-list"),
    path(
        "price-lists/new/", views.PriceListFormView.as_view(), name="pricelist-create"
    ),
    path(
        "price-lists/<int:pk>/",
        views.PriceListDetailView.as_view(),
        name="pricelist-detail",
    ),
    path(
        "price-lists/<int:pk>/edit/",
        views.PriceListFormView.as_view(),
        name="pricelist-edit",
    ),
    path(
        "price-lists/<int:pk>/prices/",
        views.pricelist_set_price,
        name="pricelist-set-price",
    ),
    path(
        "price-lists/<int:pk>/prices/<int:item_pk>/delete/",
        views.pricelist_remove_price,
        name="pricelist-remove-price",
    ),
]
