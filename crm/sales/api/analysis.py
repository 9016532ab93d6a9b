"""S9 sales analysis API (/api/v1/sales/analysis/…): the numbers of the analysis page,
computed by the same selectors within the caller's data scope. Money is a decimal string;
a section the caller may not read (no view permission on orders, payments or leads) is
null."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.schema import AutoSchema
from crm.core.scopes import authorize
from crm.sales.selectors import analysis as selectors


def money(**kwargs):
    return serializers.DecimalField(max_digits=30, decimal_places=6, **kwargs)


def percent(**kwargs):
    return serializers.DecimalField(
        max_digits=30, decimal_places=1, allow_null=True, **kwargs
    )


class FiltersOut(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    department = serializers.IntegerField(allow_null=True)
    owner = serializers.IntegerField(allow_null=True)


class SummaryOut(serializers.Serializer):
    orders_amount = money(allow_null=True)
    orders_count = serializers.IntegerField(allow_null=True)
    collections_amount = money(allow_null=True)
    collections_count = serializers.IntegerField(allow_null=True)


class StageOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    probability = serializers.IntegerField()
    count = serializers.IntegerField()
    amount = money()
    weighted = money()


class CountAmountOut(serializers.Serializer):
    count = serializers.IntegerField()
    amount = money()


class FunnelOut(serializers.Serializer):
    stages = StageOut(many=True)
    open_count = serializers.IntegerField()
    open_amount = money()
    open_weighted = money()
    won = CountAmountOut(help_text="Won in the period.")
    lost = CountAmountOut(help_text="Lost in the period.")


class OwnerRateOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    won_amount = money()
    rate = percent()


class WinRateOut(serializers.Serializer):
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    won_amount = money()
    rate = percent(help_text="won / (won + lost) in %, null when nothing closed.")
    by_owner = OwnerRateOut(many=True)


class ForecastMonthOut(serializers.Serializer):
    key = serializers.CharField(help_text="YYYY-MM")
    count = serializers.IntegerField()
    amount = money()
    weighted = money(help_text="Σ amount × stage probability.")


class ForecastBucketOut(serializers.Serializer):
    count = serializers.IntegerField()
    amount = money()
    weighted = money()


class ForecastOut(serializers.Serializer):
    months = ForecastMonthOut(many=True)
    undated = ForecastBucketOut(help_text="Open opportunities without a close date.")
    amount = money()
    weighted = money()


class RankOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    amount = money()
    count = serializers.IntegerField()


class RankingsOut(serializers.Serializer):
    by_orders = RankOut(many=True, allow_null=True)
    by_collections = RankOut(many=True, allow_null=True)
    customers = RankOut(many=True, allow_null=True)


class TrendOut(serializers.Serializer):
    key = serializers.CharField(help_text="YYYY-MM")
    orders = money()
    orders_count = serializers.IntegerField()
    collections = money()
    collections_count = serializers.IntegerField()


class RegionOut(serializers.Serializer):
    key = serializers.CharField(help_text="Province code; empty when unknown.")
    name = serializers.CharField()
    amount = money()
    count = serializers.IntegerField()


class CategoryOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    amount = money()
    quantity = serializers.DecimalField(max_digits=30, decimal_places=4)


class ProductOut(CategoryOut):
    code = serializers.CharField()


class DepartmentOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    orders = money(allow_null=True)
    collections = money(allow_null=True)


class BreakdownsOut(serializers.Serializer):
    region = RegionOut(many=True, allow_null=True)
    category = CategoryOut(many=True, allow_null=True)
    product = ProductOut(many=True, allow_null=True)
    department = DepartmentOut(many=True, allow_null=True)


class LeadSourceOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()
    converted = serializers.IntegerField()
    rate = percent()


class LeadsOut(serializers.Serializer):
    by_source = LeadSourceOut(many=True)
    count = serializers.IntegerField()
    converted = serializers.IntegerField()
    rate = percent()


class AnalysisOut(serializers.Serializer):
    filters = FiltersOut()
    summary = SummaryOut()
    funnel = FunnelOut()
    win_rate = WinRateOut()
    forecast = ForecastOut()
    rankings = RankingsOut()
    trend = TrendOut(many=True, allow_null=True)
    breakdowns = BreakdownsOut()
    leads = LeadsOut(allow_null=True)


FILTERS = [
    OpenApiParameter(
        "year", OpenApiTypes.INT, description="A calendar year (default: this one)."
    ),
    OpenApiParameter(
        "date_from", OpenApiTypes.DATE, description="Start of the period (included)."
    ),
    OpenApiParameter(
        "date_to", OpenApiTypes.DATE, description="End of the period (included)."
    ),
    OpenApiParameter(
        "department",
        OpenApiTypes.INT,
        description="A department within your scope; stands for its subtree.",
    ),
    OpenApiParameter(
        "owner", OpenApiTypes.INT, description="An employee within your scope."
    ),
]


class AnalysisViewSet(viewsets.ViewSet):
    """S9: the whole analysis, or one section of it. Needs sales.view_opportunity."""

    permission_classes = [IsAuthenticated]
    schema = AutoSchema()

    def _filters(self, request):
        authorize(request.user, "sales.view_opportunity")
        return selectors.analysis_filters(
            actor=request.user, params=request.query_params
        )

    def _section(self, request, key, serializer):
        filters = self._filters(request)
        data = selectors.SECTIONS[key](actor=request.user, filters=filters)
        return Response(serializer(data).data)

    @extend_schema(
        parameters=FILTERS, responses={200: AnalysisOut}, summary="Sales analysis"
    )
    def list(self, request):
        filters = self._filters(request)
        data = selectors.sales_analysis(actor=request.user, filters=filters)
        return Response(AnalysisOut(data).data)

    @extend_schema(parameters=FILTERS, responses={200: SummaryOut})
    @action(detail=False, methods=["get"])
    def summary(self, request):
        return self._section(request, "summary", SummaryOut)

    @extend_schema(parameters=FILTERS, responses={200: FunnelOut})
    @action(detail=False, methods=["get"])
    def funnel(self, request):
        return self._section(request, "funnel", FunnelOut)

    @extend_schema(parameters=FILTERS, responses={200: WinRateOut})
    @action(detail=False, methods=["get"], url_path="win-rate")
    def win_rate(self, request):
        return self._section(request, "win_rate", WinRateOut)

    @extend_schema(parameters=FILTERS, responses={200: ForecastOut})
    @action(detail=False, methods=["get"])
    def forecast(self, request):
        return self._section(request, "forecast", ForecastOut)

    @extend_schema(parameters=FILTERS, responses={200: RankingsOut})
    @action(detail=False, methods=["get"])
    def rankings(self, request):
        return self._section(request, "rankings", RankingsOut)

    @extend_schema(parameters=FILTERS, responses={200: TrendOut(many=True)})
    @action(detail=False, methods=["get"])
    def trend(self, request):
        filters = self._filters(request)
        data = selectors.trend(actor=request.user, filters=filters)
        if data is None:
            authorize(request.user, "sales.view_salesorder")
        return Response(TrendOut(data, many=True).data)

    @extend_schema(parameters=FILTERS, responses={200: BreakdownsOut})
    @action(detail=False, methods=["get"])
    def breakdowns(self, request):
        return self._section(request, "breakdowns", BreakdownsOut)

    @extend_schema(parameters=FILTERS, responses={200: LeadsOut})
    @action(detail=False, methods=["get"])
    def leads(self, request):
        filters = self._filters(request)
        data = selectors.leads(actor=request.user, filters=filters)
        if data is None:
            authorize(request.user, "sales.view_lead")
        return Response(LeadsOut(data).data)


router = SimpleRouter()
router.register("analysis", AnalysisViewSet, basename="sales-analysis")
urlpatterns = router.urls
