"""S8 sales plans API (/api/v1/sales/targets/): the same selectors, services and
permissions as the pages; every target carries its actuals and achievement."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.serializers import ModelSerializer
from crm.core.api.viewsets import (
    ScopedViewSet,
    ServiceDeleteMixin,
    ServiceWriteMixin,
)
from crm.core.lists import REGISTRY
from crm.core.scopes import authorize
from crm.sales.models import SalesTarget
from crm.sales.selectors.plans import (
    achievement_rate,
    department_achievement,
    period_bounds,
    sales_departments,
    sales_employees,
    target_get,
)
from crm.sales.services import plans as services

MONEY_OUT = {"max_digits": 30, "decimal_places": 6, "read_only": True}
RATE = serializers.DecimalField(
    max_digits=30,
    decimal_places=1,
    allow_null=True,
    help_text="Actual as a percentage of the target (one decimal, half up); null "
    "without a target.",
)


def _rate(actual, target) -> str | None:
    rate = achievement_rate(actual, target)
    return None if rate is None else str(rate)


class SalesTargetOut(serializers.ModelSerializer):
    owner_name = serializers.CharField(
        source="owner.name", read_only=True, allow_null=True
    )
    department_name = serializers.CharField(
        source="department.name", read_only=True, allow_null=True
    )
    period_start = serializers.SerializerMethodField()
    period_end = serializers.SerializerMethodField()
    order_actual = serializers.DecimalField(**MONEY_OUT)
    collection_actual = serializers.DecimalField(**MONEY_OUT)
    order_rate = serializers.SerializerMethodField()
    collection_rate = serializers.SerializerMethodField()

    class Meta:
        model = SalesTarget
        fields = [
            "id",
            "period_type",
            "year",
            "period",
            "period_start",
            "period_end",
            "owner",
            "owner_name",
            "department",
            "department_name",
            "order_target",
            "order_actual",
            "order_rate",
            "collection_target",
            "collection_actual",
            "collection_rate",
            "notes",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(OpenApiTypes.DATE)
    def get_period_start(self, obj):
        return period_bounds(obj.period_type, obj.year, obj.period)[0]

    @extend_schema_field(OpenApiTypes.DATE)
    def get_period_end(self, obj):
        return period_bounds(obj.period_type, obj.year, obj.period)[1]

    @extend_schema_field(RATE)
    def get_order_rate(self, obj):
        return _rate(obj.order_actual, obj.order_target)

    @extend_schema_field(RATE)
    def get_collection_rate(self, obj):
        return _rate(obj.collection_actual, obj.collection_target)


class SalesTargetIn(ModelSerializer):
    """The shape of a target; the service checks the rules (period range, subject,
    duplicates, data scope)."""

    class Meta:
        model = SalesTarget
        fields = [
            "period_type",
            "year",
            "period",
            "owner",
            "department",
            "order_target",
            "collection_target",
            "notes",
        ]
        # One target per subject and period is the service's rule (409 naming it).
        validators: list = []

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and not getattr(
            self.context.get("view"), "swagger_fake_view", False
        ):
            fields["owner"].queryset = sales_employees(actor=request.user)
            fields["department"].queryset = sales_departments(actor=request.user)
        return fields


class SalesTargetDepartmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    depth = serializers.IntegerField()
    order_target = serializers.DecimalField(
        max_digits=30,
        decimal_places=6,
        allow_null=True,
        help_text="The department's own target; null when it has none.",
    )
    order_employee_targets = serializers.DecimalField(
        max_digits=30,
        decimal_places=6,
        help_text="Sum of the employee targets in the department's subtree.",
    )
    order_actual = serializers.DecimalField(
        max_digits=30,
        decimal_places=6,
        help_text="Confirmed and completed orders of the subtree in the period.",
    )
    order_rate = serializers.DecimalField(
        max_digits=30, decimal_places=1, allow_null=True
    )
    collection_target = serializers.DecimalField(
        max_digits=30, decimal_places=6, allow_null=True
    )
    collection_employee_targets = serializers.DecimalField(
        max_digits=30, decimal_places=6
    )
    collection_actual = serializers.DecimalField(
        max_digits=30,
        decimal_places=6,
        help_text="Posted payments of the subtree in the period.",
    )
    collection_rate = serializers.DecimalField(
        max_digits=30, decimal_places=1, allow_null=True
    )


class SalesTargetPeriodIn(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    period_type = serializers.ChoiceField(
        choices=SalesTarget.PeriodType.choices, default="year"
    )
    period = serializers.IntegerField(min_value=1, max_value=12, default=1)

    def validate(self, attrs):
        limits = {"month": 12, "quarter": 4, "year": 1}
        limit = limits[attrs["period_type"]]
        if attrs["period_type"] == "year":
            attrs["period"] = 1
        elif attrs["period"] > limit:
            raise serializers.ValidationError(
                {"period": [_("Enter a period from 1 to %(max)s.") % {"max": limit}]}
            )
        return attrs


class TargetViewSet(
    ServiceDeleteMixin,
    ServiceWriteMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """S8 sales targets with their achievement. Targets have no version; delete is real."""

    spec = REGISTRY["sales.salestarget"]
    output_serializer_class = SalesTargetOut
    create_service = services.target_create
    update_service = services.target_update
    delete_service = services.target_delete

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return SalesTargetIn
        if self.action == "departments":
            return SalesTargetDepartmentOut
        return SalesTargetOut

    def _out(self, obj, status=200):
        # Re-read the target with its actuals (the service returns the bare row).
        obj = target_get(actor=self.request.user, pk=obj.pk)
        return super()._out(obj, status)

    @extend_schema(request=SalesTargetIn, responses={201: SalesTargetOut, 409: None})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=SalesTargetIn, responses={200: SalesTargetOut, 409: None})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=SalesTargetIn, responses={200: SalesTargetOut, 409: None})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, required=True),
            OpenApiParameter(
                "period_type", OpenApiTypes.STR, enum=["month", "quarter", "year"]
            ),
            OpenApiParameter("period", OpenApiTypes.INT, description="1–12 or 1–4"),
        ],
        responses={200: SalesTargetDepartmentOut(many=True)},
        summary="Department roll-up of one period",
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def departments(self, request):
        """Every department the caller plans for: own target, the sum of its
        employees' targets and its subtree's actuals in the period."""
        authorize(request.user, "sales.view_salestarget")
        params = SalesTargetPeriodIn(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = department_achievement(actor=request.user, **params.validated_data)
        return Response(SalesTargetDepartmentOut(rows, many=True).data)


router = SimpleRouter()
router.register("targets", TargetViewSet, basename="sales-target")
urlpatterns = router.urls
