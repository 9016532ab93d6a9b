"""D5 HQ sell-through API (/api/v1/channels/): reports and their lines of the partners
in the caller's channel scope (read only; partners report through the portal API).
Same list specs (search, filters, sort) as the HQ pages."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from crm.channels.models import SellThroughLine, SellThroughReport
from crm.channels.selectors import sellthrough as _lists  # noqa: F401 (registers specs)
from crm.core.api.serializers import ModelSerializer
from crm.core.api.viewsets import ScopedViewSet
from crm.core.lists import REGISTRY


class LineOut(ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = SellThroughLine
        fields = [
            "id",
            "report",
            "partner",
            "sold_on",
            "product",
            "product_code",
            "product_name",
            "quantity",
            "amount",
            "end_customer_name",
            "end_customer",
            "region",
        ]


class ReportOut(ModelSerializer):
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    # Plain text, not an enum: the enum's name would collide with the leads' "source"
    # in the schema (an ENUM_NAME_OVERRIDES entry in the settings would name it).
    source = serializers.CharField(
        read_only=True, help_text="portal, upload, api or hq (entered by HQ)."
    )

    class Meta:
        model = SellThroughReport
        fields = [
            "id",
            "partner",
            "partner_name",
            "reference",
            "source",
            "period_start",
            "period_end",
            "line_count",
            "total_quantity",
            "total_amount",
            "submitted_by",
            "created_at",
        ]


class ReportDetailOut(ReportOut):
    lines = serializers.SerializerMethodField()

    class Meta(ReportOut.Meta):
        fields = [*ReportOut.Meta.fields, "lines"]

    @extend_schema_field(LineOut(many=True))
    def get_lines(self, report) -> list[dict]:
        lines = sorted(report.lines.all(), key=lambda line: line.pk)
        return LineOut(lines, many=True, context=self.context).data


class SellThroughReportViewSet(ScopedViewSet):
    """Sell-through reports (销售上报) of the partners in the caller's scope."""

    spec = REGISTRY["channels.sellthroughreport"]

    def get_queryset(self):
        qs = super().get_queryset().select_related("partner")
        if getattr(self, "action", None) == "retrieve":
            qs = qs.prefetch_related("lines__product")
        return qs

    def get_serializer_class(self):
        return ReportDetailOut if self.action == "retrieve" else ReportOut


class SellThroughLineViewSet(ScopedViewSet):
    """Sell-through lines (one sale to an end customer each) in the caller's scope."""

    spec = REGISTRY["channels.sellthroughline"]

    def get_queryset(self):
        return super().get_queryset().select_related("product")

    def get_serializer_class(self):
        return LineOut


router = SimpleRouter()
router.register(
    "sell-through-reports", SellThroughReportViewSet, basename="channels-sellthrough"
)
router.register(
    "sell-through-lines", SellThroughLineViewSet, basename="channels-sellthroughline"
)
urlpatterns = router.urls
