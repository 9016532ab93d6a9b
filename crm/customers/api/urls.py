from rest_framework.routers import SimpleRouter

from crm.customers.api.views import ContactViewSet, CustomerViewSet

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
urlpatterns = router.urls
