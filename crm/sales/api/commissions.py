"""S7 commissions API: rules, periods (compute, close) and commission lines (in the
caller's scope). Same selectors, services and permissions as the pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.routers import SimpleRouter

from crm.core.api.serializers import ModelSerializer
from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin
from crm.core.lists import REGISTRY
from crm.sales.models import CommissionLine, CommissionPeriod, CommissionRule
from crm.sales.services import commissions as services


class CommissionRuleOut(ModelSerializer):
    class Meta:
        model = CommissionRule
        fields = [
            "id",
            "name",
            "employee",
            "role",
            "category",
            "rate",
            "is_active",
            "created_at",
            "updated_at",
        ]


class CommissionRuleIn(ModelSerializer):
    class Meta:
        model = CommissionRule
        fields = ["name", "employee", "role", "category", "rate", "is_active"]


class CommissionPeriodOut(ModelSerializer):
    class Meta:
        model = CommissionPeriod
        fields = [
            "id",
            "name",
            "start_on",
            "end_on",
            "status",
            "computed_at",
            "closed_by",
            "closed_at",
        ]


class CommissionPeriodIn(ModelSerializer):
    class Meta:
        model = CommissionPeriod
        fields = ["name", "start_on", "end_on"]
        validators: list = []  # overlaps and order are the service's rules


class CommissionLineOut(ModelSerializer):
    payment_number = serializers.CharField(source="payment.number", read_only=True)
    received_on = serializers.DateField(source="payment.received_on", read_only=True)

    class Meta:
        model = CommissionLine
        fields = [
            "id",
            "period",
            "employee",
            "department",
            "payment",
            "payment_number",
            "received_on",
            "category",
            "rule",
            "base_amount",
            "rate",
            "amount",
        ]


class CommissionRuleViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """Commission rules: an employee or a role, optionally a product category, a rate."""

    spec = REGISTRY["sales.commissionrule"]
    output_serializer_class = CommissionRuleOut
    create_service = services.commission_rule_create
    update_service = services.commission_rule_update
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().order_by("name", "pk")

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return CommissionRuleIn
        return CommissionRuleOut

    @extend_schema(request=CommissionRuleIn, responses={201: CommissionRuleOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=CommissionRuleIn, responses={200: CommissionRuleOut})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=CommissionRuleIn, responses={200: CommissionRuleOut})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


class CommissionPeriodViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """Settlement periods; compute builds the lines, close makes them final."""

    spec = REGISTRY["sales.commissionperiod"]
    output_serializer_class = CommissionPeriodOut
    create_service = services.commission_period_create
    update_service = services.commission_period_update
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return CommissionPeriodIn
        return CommissionPeriodOut

    @extend_schema(request=CommissionPeriodIn, responses={201: CommissionPeriodOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(
        request=CommissionPeriodIn, responses={200: CommissionPeriodOut, 409: None}
    )
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(
        request=CommissionPeriodIn, responses={200: CommissionPeriodOut, 409: None}
    )
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: CommissionPeriodOut, 409: None})
    @action(detail=True, methods=["post"])
    def compute(self, request, pk=None):
        """Rebuild the period's lines from its receipts (409 once closed)."""
        period = services.commission_period_compute(
            actor=request.user, period=self.get_object()
        )
        return self._out(period)

    @extend_schema(request=None, responses={200: CommissionPeriodOut, 409: None})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Compute a last time and lock the period (sales.close_commissionperiod)."""
        period = services.commission_period_close(
            actor=request.user, period=self.get_object()
        )
        return self._out(period)


class CommissionLineViewSet(ScopedViewSet):
    """Commission lines in the caller's scope; filter with period and employee."""

    spec = REGISTRY["sales.commissionline"]
    serializer_class = CommissionLineOut

    def get_queryset(self):
        return super().get_queryset().select_related("payment")


router = SimpleRouter()
router.register(
    "commission-rules", CommissionRuleViewSet, basename="sales-commission-rule"
)
router.register(
    "commission-periods", CommissionPeriodViewSet, basename="sales-commission-period"
)
router.register(
    "commission-lines", CommissionLineViewSet, basename="sales-commission-line"
)
urlpatterns = router.urls
