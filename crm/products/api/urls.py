from rest_framework.routers import SimpleRouter

from crm.products.api.views import CategoryViewSet, PriceListViewSet, ProductViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")
router.register("categories", CategoryViewSet, basename="category")
router.register("price-lists", PriceListViewSet, basename="pricelist")
urlpatterns = router.urls
