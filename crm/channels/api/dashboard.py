"""D11 HQ channel dashboard API (/api/v1/channels/dashboard/): the numbers of the
dashboard page, computed by the same selectors within the caller's channel data scope.
Money is a decimal string."""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.channels.selectors import dashboard as selectors
from crm.core.api.schema import AutoSchema


def money(**kwargs):
    return serializers.DecimalField(max_digits=30, decimal_places=2, **kwargs)


def quantity(**kwargs):
    return serializers.DecimalField(max_digits=30, decimal_places=4, **kwargs)


def percent(**kwargs):
    return serializers.DecimalField(
        max_digits=30, decimal_places=1, allow_null=True, **kwargs
    )


class DashboardFiltersOut(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    region = serializers.CharField(allow_null=True, help_text="Province code.")


class DashboardKpisOut(serializers.Serializer):
    partners_active = serializers.IntegerField()
    partners_total = serializers.IntegerField()
    month = serializers.CharField(help_text="YYYY-MM: the month of the period's end.")
    sell_through_this_month = money()
    sell_through_last_month = money()
    sell_through_change = percent(help_text="Change on the previous month in %.")
    sell_through = money(help_text="Sell-through in the period.")
    sell_through_quantity = quantity()
    sell_in = money(help_text="Goods received by partners in the period.")
    sell_in_quantity = quantity()
    stock_quantity = quantity(help_text="Latest count of each partner × product.")
    stock_value = money(help_text="The same stock at list price.")
    stock_as_of = serializers.DateField()


class DashboardTrendOut(serializers.Serializer):
    key = serializers.CharField(help_text="YYYY-MM")
    sell_in = money()
    sell_through = money()
    stock_quantity = quantity(allow_null=True)
    stock_value = money(allow_null=True)


class DashboardScorePeriodOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class DashboardScoreOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    score = serializers.DecimalField(max_digits=7, decimal_places=2)
    rank = serializers.IntegerField(allow_null=True)
    achievement = percent()


class DashboardScoresOut(serializers.Serializer):
    period = DashboardScorePeriodOut(
        allow_null=True, help_text="The latest closed score period."
    )
    top = DashboardScoreOut(many=True)
    bottom = DashboardScoreOut(many=True)
    count = serializers.IntegerField()


class DashboardProvinceOut(serializers.Serializer):
    code = serializers.CharField(help_text="Province code (first two digits).")
    name = serializers.CharField()
    amount = money()
    quantity = quantity()


class DashboardMismatchOut(serializers.Serializer):
    partner_id = serializers.IntegerField()
    partner = serializers.CharField()
    product_id = serializers.IntegerField()
    product = serializers.CharField()
    counted_on = serializers.DateField()
    counted = quantity()
    expected = quantity()
    difference = quantity()
    percent = percent()


class DashboardReconciliationOut(serializers.Serializer):
    count = serializers.IntegerField(help_text="Partner × product mismatches.")
    top = DashboardMismatchOut(many=True)


class DashboardOut(serializers.Serializer):
    filters = DashboardFiltersOut()
    kpis = DashboardKpisOut()
    trend = DashboardTrendOut(many=True)
    scores = DashboardScoresOut()
    provinces = DashboardProvinceOut(many=True)
    reconciliation = DashboardReconciliationOut()


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
        "region",
        OpenApiTypes.STR,
        description="A province code (e.g. 330000): partners based there.",
    ),
]


class DashboardView(APIView):
    """D11: every section of the channel dashboard. Needs channels.view_partner."""

    permission_classes = [IsAuthenticated]
    schema = AutoSchema()

    @extend_schema(
        parameters=FILTERS, responses={200: DashboardOut}, summary="Channel dashboard"
    )
    def get(self, request):
        filters = selectors.dashboard_filters(
            actor=request.user, params=request.query_params
        )
        data = selectors.channel_dashboard(actor=request.user, filters=filters)
        return Response(DashboardOut(data).data)


urlpatterns = [
    path("dashboard/", DashboardView.as_view(), name="channels-dashboard"),
]
