from rest_framework.routers import SimpleRouter

from crm.customers.api.views import ContactViewSet, CustomerViewSet

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
urlpatterns = router.urls

# Activities, public pool and analysis (crm/customers/api/care_urls.py).
from crm.customers.api.care_urls import urlpatterns as care_urlpatterns  # noqa: E402

urlpatterns += care_urlpatterns
