"""D7/D8 HQ API (/api/v1/channels/): targets with achievement, KPIs, score periods
(compute and close actions) and scores with their breakdown. The same selectors,
services and permissions as the pages; scores and targets only of the caller's
partners (ranks are global)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.routers import SimpleRouter

from crm.channels.models import (
    Kpi,
    PartnerScore,
    PartnerTarget,
    PartnerTargetLine,
    ScorePeriod,
)
from crm.channels.selectors.partners_scope import partners_visible
from crm.channels.selectors.scores import percent_of, target_get
from crm.channels.services import scores as services
from crm.core.api.serializers import IdRelatedField, ModelSerializer
from crm.core.api.viewsets import (
    ScopedViewSet,
    ServiceCreateMixin,
    ServiceDeleteMixin,
    ServiceOutputMixin,
    ServiceWriteMixin,
)
from crm.core.lists import REGISTRY
from crm.products.models import Category

MONEY_OUT = {"max_digits": 30, "decimal_places": 6, "read_only": True}
RATE = {"max_digits": 30, "decimal_places": 2, "read_only": True, "allow_null": True}


class TargetLineOut(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)

    class Meta:
        model = PartnerTargetLine
        fields = ["category", "category_name", "quantity"]


class TargetLineIn(serializers.Serializer):
    category = IdRelatedField(queryset=Category.objects.all())
    quantity = serializers.DecimalField(
        max_digits=20, decimal_places=6, min_value=0, max_value=10**13
    )


class PartnerTargetOut(serializers.ModelSerializer):
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    sell_through_actual = serializers.DecimalField(**MONEY_OUT)
    new_customers_actual = serializers.IntegerField(read_only=True)
    achievement = serializers.SerializerMethodField(
        help_text="Sell-through as a percentage of the target (two decimals, half "
        "up); null without a target."
    )
    lines = TargetLineOut(many=True, read_only=True)

    class Meta:
        model = PartnerTarget
        fields = [
            "id",
            "partner",
            "partner_name",
            "period_kind",
            "starts_on",
            "ends_on",
            "sales_amount",
            "sell_through_actual",
            "achievement",
            "new_customers",
            "new_customers_actual",
            "service_level",
            "service_level_actual",
            "lines",
            "version",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(
        serializers.DecimalField(max_digits=30, decimal_places=2, allow_null=True)
    )
    def get_achievement(self, obj) -> str | None:
        rate = percent_of(obj.sell_through_actual, obj.sales_amount)
        return None if rate is None else str(rate)


class PartnerTargetIn(ModelSerializer):
    """The shape of a target; the service checks the rules (period start, duplicates,
    closed periods, scope). `lines` replaces the product-line rows when given."""

    lines = TargetLineIn(many=True, required=False)
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)

    class Meta:
        model = PartnerTarget
        fields = [
            "partner",
            "period_kind",
            "starts_on",
            "sales_amount",
            "new_customers",
            "service_level",
            "service_level_actual",
            "lines",
            "version",
        ]
        validators: list = []
        extra_kwargs = {
            "sales_amount": {"max_value": 10**13, "min_value": 0},
            "new_customers": {"max_value": 10**6},
            "service_level": {"min_value": 0, "max_value": 1000},
            "service_level_actual": {"min_value": 0, "max_value": 1000},
        }

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and not getattr(
            self.context.get("view"), "swagger_fake_view", False
        ):
            fields["partner"].queryset = partners_visible(request.user)
        return fields


class TargetViewSet(
    ServiceDeleteMixin,
    ServiceWriteMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """D7 partner targets with their achievement. A target inside a closed score
    period is final (409); updates carry the version read (stale: 409)."""

    spec = REGISTRY["channels.partnertarget"]
    output_serializer_class = PartnerTargetOut
    create_service = services.target_create
    update_service = services.target_update
    delete_service = services.target_delete

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.prefetch_related("lines__category")

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return PartnerTargetIn
        return PartnerTargetOut

    def _out(self, obj, status=200):
        obj = target_get(actor=self.request.user, pk=obj.pk)
        return super()._out(obj, status)

    @extend_schema(
        request=PartnerTargetIn, responses={201: PartnerTargetOut, 409: None}
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(
        request=PartnerTargetIn, responses={200: PartnerTargetOut, 409: None}
    )
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(
        request=PartnerTargetIn, responses={200: PartnerTargetOut, 409: None}
    )
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(responses={204: None, 409: None})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)


class KpiSerializer(serializers.ModelSerializer):
    class Meta:
        model = Kpi
        fields = [
            "id",
            "code",
            "name",
            "measure",
            "weight",
            "active",
            "parameters",
            "description",
            "sort_order",
        ]
        read_only_fields = ["id", "code", "measure"]
        extra_kwargs = {
            "weight": {"min_value": 0, "max_value": 1000},
            "sort_order": {"max_value": 32767},
        }


class KpiViewSet(ServiceOutputMixin, mixins.UpdateModelMixin, ScopedViewSet):
    """The scorecard's KPIs: weight, active and parameters may be changed; the
    weights of the active KPIs are normalised to 100 when a period is computed."""

    spec = REGISTRY["channels.kpi"]
    serializer_class = KpiSerializer
    http_method_names = ["get", "put", "patch", "head", "options"]

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = self.get_serializer(
            obj, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        kpi = services.kpi_update(
            actor=request.user, obj=obj, data=dict(serializer.validated_data)
        )
        return self._out(kpi)


class ScorePeriodOut(serializers.ModelSerializer):
    class Meta:
        model = ScorePeriod
        fields = [
            "id",
            "name",
            "kind",
            "starts_on",
            "ends_on",
            "status",
            "computed_at",
            "closed_at",
            "closed_by",
            "created_at",
        ]


class ScorePeriodIn(serializers.ModelSerializer):
    class Meta:
        model = ScorePeriod
        fields = ["kind", "starts_on", "name"]
        extra_kwargs = {"name": {"required": False}}
        validators: list = []


class ScorePeriodViewSet(
    ServiceDeleteMixin,
    ServiceCreateMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """Score periods: create (month/quarter/year from its first day), compute (scores
    every non-terminated partner, replacing an open period's scores), close (final).
    An open period may be deleted."""

    spec = REGISTRY["channels.scoreperiod"]
    output_serializer_class = ScorePeriodOut
    create_service = services.period_create
    http_method_names = ["get", "post", "delete", "head", "options"]

    @staticmethod
    def delete_service(*, actor, obj):
        services.period_delete(actor=actor, period=obj)

    def get_serializer_class(self):
        if self.action == "create":
            return ScorePeriodIn
        return ScorePeriodOut

    @extend_schema(request=ScorePeriodIn, responses={201: ScorePeriodOut, 409: None})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(responses={204: None, 409: None})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: ScorePeriodOut, 409: None})
    @action(detail=True, methods=["post"])
    def compute(self, request, pk=None):
        """Score every non-terminated partner (409 once closed)."""
        period = services.score_period_compute(
            actor=request.user, period=self.get_object()
        )
        return self._out(period)

    @extend_schema(request=None, responses={200: ScorePeriodOut, 409: None})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Lock the period (channels.close_scoreperiod; 409 if not computed or closed)."""
        period = services.period_close(actor=request.user, period=self.get_object())
        return self._out(period)


class PartnerScoreOut(serializers.ModelSerializer):
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    period_name = serializers.CharField(source="period.name", read_only=True)

    class Meta:
        model = PartnerScore
        fields = [
            "id",
            "period",
            "period_name",
            "partner",
            "partner_name",
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


class ScoreViewSet(ScopedViewSet):
    """Scores of the caller's partners; filter with `period` and `partner`. The rank
    is the partner's rank among all partners of the period."""

    spec = REGISTRY["channels.partnerscore"]
    serializer_class = PartnerScoreOut


router = SimpleRouter()
router.register("targets", TargetViewSet, basename="channels-target")
router.register("kpis", KpiViewSet, basename="channels-kpi")
router.register("score-periods", ScorePeriodViewSet, basename="channels-scoreperiod")
router.register("scores", ScoreViewSet, basename="channels-score")
urlpatterns = router.urls
