"""Partner portal API, read only: the partner's own targets with achievement
(/api/v1/portal/targets/) and its scores of closed periods with the breakdown
(/api/v1/portal/scores/). Another partner's ids are not found (404)."""

from django.utils.translation import gettext as _
from rest_framework import serializers, viewsets
from rest_framework.routers import SimpleRouter

from crm.channels.api.scores import PartnerTargetOut
from crm.channels.models import PartnerScore, PartnerTarget
from crm.channels.portal.access import PortalAPIMixin
from crm.channels.selectors.scores import portal_scores, portal_targets
from crm.core.api.viewsets import object_id
from crm.core.errors import NotFound


class PortalTargetOut(PartnerTargetOut):
    class Meta(PartnerTargetOut.Meta):
        fields = [f for f in PartnerTargetOut.Meta.fields if f != "version"]


class PortalScoreOut(serializers.ModelSerializer):
    period_name = serializers.CharField(source="period.name", read_only=True)
    period_kind = serializers.CharField(source="period.kind", read_only=True)
    starts_on = serializers.DateField(source="period.starts_on", read_only=True)
    ends_on = serializers.DateField(source="period.ends_on", read_only=True)

    class Meta:
        model = PartnerScore
        fields = [
            "id",
            "period",
            "period_name",
            "period_kind",
            "starts_on",
            "ends_on",
            "total",
            "rank",
            "sell_through_amount",
            "achievement_percent",
            "sell_in_amount",
            "rebate_amount",
            "penalty_amount",
            "outcome",
            "breakdown",
        ]


class _PortalReadOnly(PortalAPIMixin, viewsets.ReadOnlyModelViewSet):
    filter_backends: list = []
    label = ""

    def get_object(self):
        pk = object_id(self.kwargs["pk"], self.label)
        try:
            return self.get_queryset().get(pk=pk)
        except self.queryset.model.DoesNotExist:
            raise NotFound(_("Not found.")) from None


class PortalTargetViewSet(_PortalReadOnly):
    """The partner's targets with sell-through, new end customers and achievement."""

    serializer_class = PortalTargetOut
    queryset = PartnerTarget.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PartnerTarget.objects.none()
        return portal_targets(self.partner).prefetch_related("lines__category")


class PortalScoreViewSet(_PortalReadOnly):
    """The partner's scores of closed periods, with rank, breakdown and outcome."""

    serializer_class = PortalScoreOut
    queryset = PartnerScore.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PartnerScore.objects.none()
        return portal_scores(self.partner)


router = SimpleRouter()
router.register("targets", PortalTargetViewSet, basename="portal-target")
router.register("scores", PortalScoreViewSet, basename="portal-score")
urlpatterns = router.urls
