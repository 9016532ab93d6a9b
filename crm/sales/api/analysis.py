"""S9 sales analysis API (/api/v1/sales/analysis/…): the numbers of the analysis page,
computed by the same selectors within the caller's data scope. Money is a decimal string;
a section the caller may not read (no view permission on orders, payments or leads) is
null."""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from crm.core.api.schema import AutoSchema
from crm.core.scopes import authorize
from crm.sales.selectors import analysis as selectors


def money(**kwargs):
    return serializers.DecimalField(max_digits=30, decimal_places=6, **kwargs)


def percent(**kwargs):
    return serializers.DecimalField(
        max_digits=30, decimal_places=1, allow_null=True, **kwargs
    )


class SalesAnalysisFiltersOut(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    department = serializers.IntegerField(allow_null=True)
    owner = serializers.IntegerField(allow_null=True)


class SalesAnalysisSummaryOut(serializers.Serializer):
    orders_amount = money(allow_null=True)
    orders_count = serializers.IntegerField(allow_null=True)
    collections_amount = money(allow_null=True)
    collections_count = serializers.IntegerField(allow_null=True)


class SalesAnalysisStageOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    probability = serializers.IntegerField()
    count = serializers.IntegerField()
    amount = money()
    weighted = money()


class SalesAnalysisCountAmountOut(serializers.Serializer):
    count = serializers.IntegerField()
    amount = money()


class SalesAnalysisFunnelOut(serializers.Serializer):
    stages = SalesAnalysisStageOut(many=True)
    open_count = serializers.IntegerField()
    open_amount = money()
    open_weighted = money()
    won = SalesAnalysisCountAmountOut(help_text="Won in the period.")
    lost = SalesAnalysisCountAmountOut(help_text="Lost in the period.")


class SalesAnalysisOwnerRateOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    won_amount = money()
    rate = percent()


class SalesAnalysisWinRateOut(serializers.Serializer):
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    won_amount = money()
    rate = percent(help_text="won / (won + lost) in %, null when nothing closed.")
    by_owner = SalesAnalysisOwnerRateOut(many=True)


class SalesAnalysisForecastMonthOut(serializers.Serializer):
    key = serializers.CharField(help_text="YYYY-MM")
    count = serializers.IntegerField()
    amount = money()
    weighted = money(help_text="Σ amount × stage probability.")


class SalesAnalysisForecastBucketOut(serializers.Serializer):
    count = serializers.IntegerField()
    amount = money()
    weighted = money()


class SalesAnalysisForecastOut(serializers.Serializer):
    months = SalesAnalysisForecastMonthOut(many=True)
    undated = SalesAnalysisForecastBucketOut(
        help_text="Open opportunities without a close date."
    )
    amount = money()
    weighted = money()


class SalesAnalysisRankOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    amount = money()
    count = serializers.IntegerField()


class SalesAnalysisRankingsOut(serializers.Serializer):
    by_orders = SalesAnalysisRankOut(many=True, allow_null=True)
    by_collections = SalesAnalysisRankOut(many=True, allow_null=True)
    customers = SalesAnalysisRankOut(many=True, allow_null=True)


class SalesAnalysisTrendOut(serializers.Serializer):
    key = serializers.CharField(help_text="YYYY-MM")
    orders = money()
    orders_count = serializers.IntegerField()
    collections = money()
    collections_count = serializers.IntegerField()


class SalesAnalysisRegionOut(serializers.Serializer):
    key = serializers.CharField(help_text="Province code; empty when unknown.")
    name = serializers.CharField()
    amount = money()
    count = serializers.IntegerField()


class SalesAnalysisCategoryOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    amount = money()
    quantity = serializers.DecimalField(max_digits=30, decimal_places=4)


class SalesAnalysisProductOut(SalesAnalysisCategoryOut):
    code = serializers.CharField()


class SalesAnalysisDepartmentOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    orders = money(allow_null=True)
    collections = money(allow_null=True)


class SalesAnalysisBreakdownsOut(serializers.Serializer):
    region = SalesAnalysisRegionOut(many=True, allow_null=True)
    category = SalesAnalysisCategoryOut(many=True, allow_null=True)
    product = SalesAnalysisProductOut(many=True, allow_null=True)
    department = SalesAnalysisDepartmentOut(many=True, allow_null=True)


class SalesAnalysisLeadSourceOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()
    converted = serializers.IntegerField()
    rate = percent()


class SalesAnalysisLeadsOut(serializers.Serializer):
    by_source = SalesAnalysisLeadSourceOut(many=True)
    count = serializers.IntegerField()
    converted = serializers.IntegerField()
    rate = percent()


class SalesAnalysisOut(serializers.Serializer):
    filters = SalesAnalysisFiltersOut()
    summary = SalesAnalysisSummaryOut()
    funnel = SalesAnalysisFunnelOut()
    win_rate = SalesAnalysisWinRateOut()
    forecast = SalesAnalysisForecastOut()
    rankings = SalesAnalysisRankingsOut()
    trend = SalesAnalysisTrendOut(many=True, allow_null=True)
    breakdowns = SalesAnalysisBreakdownsOut()
    leads = SalesAnalysisLeadsOut(allow_null=True)


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


def _filters(request):
    authorize(request.user, "sales.view_opportunity")
    return selectors.analysis_filters(actor=request.user, params=request.query_params)


class AnalysisView(APIView):
    """S9: every section of the analysis page. Needs sales.view_opportunity."""

    permission_classes = [IsAuthenticated]
    schema = AutoSchema()

    @extend_schema(
        parameters=FILTERS, responses={200: SalesAnalysisOut}, summary="Sales analysis"
    )
    def get(self, request):
        filters = _filters(request)
        data = selectors.sales_analysis(actor=request.user, filters=filters)
        return Response(SalesAnalysisOut(data).data)


class AnalysisSectionViewSet(viewsets.ViewSet):
    """S9: one section of the analysis. Needs sales.view_opportunity."""

    permission_classes = [IsAuthenticated]
    schema = AutoSchema()

    def _filters(self, request):
        return _filters(request)

    def _section(self, request, key, serializer):
        filters = self._filters(request)
        data = selectors.SECTIONS[key](actor=request.user, filters=filters)
        return Response(serializer(data).data)

    @extend_schema(parameters=FILTERS, responses={200: SalesAnalysisSummaryOut})
    @action(detail=False, methods=["get"])
    def summary(self, request):
        return self._section(request, "summary", SalesAnalysisSummaryOut)

    @extend_schema(parameters=FILTERS, responses={200: SalesAnalysisFunnelOut})
    @action(detail=False, methods=["get"])
    def funnel(self, request):
        return self._section(request, "funnel", SalesAnalysisFunnelOut)

    @extend_schema(parameters=FILTERS, responses={200: SalesAnalysisWinRateOut})
    @action(detail=False, methods=["get"], url_path="win-rate")
    def win_rate(self, request):
        return self._section(request, "win_rate", SalesAnalysisWinRateOut)

    @extend_schema(parameters=FILTERS, responses={200: SalesAnalysisForecastOut})
    @action(detail=False, methods=["get"])
    def forecast(self, request):
        return self._section(request, "forecast", SalesAnalysisForecastOut)

    @extend_schema(parameters=FILTERS, responses={200: SalesAnalysisRankingsOut})
    @action(detail=False, methods=["get"])
    def rankings(self, request):
        return self._section(request, "rankings", SalesAnalysisRankingsOut)

    @extend_schema(
        parameters=FILTERS, responses={200: SalesAnalysisTrendOut(many=True)}
    )
    @action(detail=False, methods=["get"])
    def trend(self, request):
        filters = self._filters(request)
        data = selectors.trend(actor=request.user, filters=filters)
        if data is None:
            authorize(request.user, "sales.view_salesorder")
        return Response(SalesAnalysisTrendOut(data, many=True).data)

    @extend_schema(parameters=FILTERS, responses={200: SalesAnalysisBreakdownsOut})
    @action(detail=False, methods=["get"])
    def breakdowns(self, request):
        return self._section(request, "breakdowns", SalesAnalysisBreakdownsOut)

    @extend_schema(parameters=FILTERS, responses={200: SalesAnalysisLeadsOut})
    @action(detail=False, methods=["get"])
    def leads(self, request):
        filters = self._filters(request)
        data = selectors.leads(actor=request.user, filters=filters)
        if data is None:
            authorize(request.user, "sales.view_lead")
        return Response(SalesAnalysisLeadsOut(data).data)


router = SimpleRouter()
router.register("analysis", AnalysisSectionViewSet, basename="sales-analysis")
urlpatterns = [
    path("analysis/", AnalysisView.as_view(), name="sales-analysis"),
    *router.urls,
]
