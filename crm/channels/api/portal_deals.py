"""D10 portal API (/api/v1/portal/deals/): the caller's partner registers end customers
and deals and reads its own registrations; another partner's ids are 404, HQ users 403.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.routers import SimpleRouter

from crm.channels.api.deals import DealOut
from crm.channels.models import DealRegistration
from crm.channels.portal.access import PortalAPIMixin
from crm.channels.portal.deals import partner_customers
from crm.channels.services import deals as services
from crm.core.api.serializers import ModelSerializer
from crm.core.api.viewsets import ScopedViewSet, ServiceCreateMixin
from crm.core.lists import REGISTRY


class PortalDealOut(DealOut):
    class Meta(DealOut.Meta):
        fields = [f for f in DealOut.Meta.fields if f not in ("decided_by",)]


class PortalDealIn(ModelSerializer):
    class Meta:
        model = DealRegistration
        fields = [
            "customer",
            "customer_name",
            "region",
            "project",
            "expected_amount",
            "expected_close_on",
            "notes",
        ]
        extra_kwargs = {
            "customer_name": {"required": False, "allow_blank": True},
            "customer": {
                "help_text": "Optional: a customer you have reported sales to."
            },
        }

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        if view is not None and not getattr(view, "swagger_fake_view", False):
            fields["customer"].queryset = partner_customers(view.partner)
        return fields


class PortalDealViewSet(
    PortalAPIMixin, ServiceCreateMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Register (the answer says pending, or conflict with the reason) and read."""

    spec = REGISTRY["channels.portal_dealregistration"]
    output_serializer_class = PortalDealOut
    create_service = services.deal_register

    def get_serializer_class(self):
        return PortalDealIn if self.action == "create" else PortalDealOut

    @extend_schema(request=PortalDealIn, responses={201: PortalDealOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


router = SimpleRouter()
router.register("deals", PortalDealViewSet, basename="portal-deal")
urlpatterns = router.urls
