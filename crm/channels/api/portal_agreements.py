"""Partner portal API: the partner's own cooperation agreements, read only
(/api/v1/portal/agreements/). Another partner's agreement is not found (404)."""

from django.utils.translation import gettext as _
from rest_framework import serializers, viewsets
from rest_framework.routers import SimpleRouter

from crm.channels.api.agreements import AgreementRuleOut
from crm.channels.models import Agreement
from crm.channels.portal.access import PortalAPIMixin
from crm.channels.selectors.agreements import portal_agreements
from crm.core.api.viewsets import object_id
from crm.core.errors import NotFound


class PortalAgreementOut(serializers.ModelSerializer):
    price_list_name = serializers.CharField(
        source="price_list.name", read_only=True, allow_null=True, default=None
    )
    territory_names = serializers.SlugRelatedField(
        source="territory", slug_field="name", many=True, read_only=True
    )
    category_names = serializers.SlugRelatedField(
        source="categories", slug_field="name", many=True, read_only=True
    )
    rules = AgreementRuleOut(many=True, read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "number",
            "title",
            "status",
            "starts_on",
            "ends_on",
            "signed_on",
            "price_list",
            "price_list_name",
            "discount_percent",
            "annual_target",
            "territory",
            "territory_names",
            "categories",
            "category_names",
            "terms",
            "termination_reason",
            "rules",
        ]


class PortalAgreementViewSet(PortalAPIMixin, viewsets.ReadOnlyModelViewSet):
    """The partner's own agreements (drafts excepted) with their rules."""

    serializer_class = PortalAgreementOut
    filter_backends: list = []
    queryset = Agreement.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Agreement.objects.none()
        return portal_agreements(self.partner).prefetch_related(
            "territory", "categories", "rules"
        )

    def get_object(self):
        pk = object_id(self.kwargs["pk"], _("Agreement"))
        try:
            return self.get_queryset().get(pk=pk)
        except Agreement.DoesNotExist:
            raise NotFound(_("Agreement not found.")) from None


router = SimpleRouter()
router.register("agreements", PortalAgreementViewSet, basename="portal-agreement")
urlpatterns = router.urls
