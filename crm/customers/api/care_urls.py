"""API routes of activities, the public pool and the analysis (crm/customers/api/care.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from crm.customers.api.care import ActivityViewSet, AnalysisView, PoolViewSet

router = SimpleRouter()
router.register("activities", ActivityViewSet, basename="activity")
router.register("pool", PoolViewSet, basename="pool")
urlpatterns = [
    path("analysis/", AnalysisView.as_view(), name="customer-analysis"),
    *router.urls,
]
