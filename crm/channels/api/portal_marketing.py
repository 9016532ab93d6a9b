"""D9 portal API (/api/v1/portal/promotions/, plans/): the promotions published to the
caller's partner, its plans (inside a promotion's dates and scope, or 400 naming the
field and the allowed range), fund requests and execution reports. Another partner's
ids and promotions not addressed to the partner are 404; HQ users get 403."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.channels.api.marketing import (
    ExecutionOut,
    FundRequestOut,
    PlanDetailOut,
    PlanOut,
)
from crm.channels.models import ExecutionReport, PartnerPlan, Promotion
from crm.channels.portal.access import PortalAPIMixin
from crm.channels.selectors.marketing import portal_plan_get, promotions_for_partner
from crm.channels.services import marketing as services
from crm.core.api.serializers import ModelSerializer, VersionedUpdateMixin
from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin
from crm.core.lists import REGISTRY


class PortalPromotionOut(serializers.ModelSerializer):
    class Meta:
        model = Promotion
        fields = [
            "id",
            "name",
            "description",
            "starts_on",
            "ends_on",
            "categories",
            "regions",
        ]


class PortalPromotionViewSet(PortalAPIMixin, ScopedViewSet):
    """Published promotions addressed to the caller's partner."""

    spec = REGISTRY["channels.portal_promotion"]
    serializer_class = PortalPromotionOut

    def get_queryset(self):
        return super().get_queryset().prefetch_related("categories", "regions")


class PlanIn(ModelSerializer):
    class Meta:
        model = PartnerPlan
        fields = [
            "promotion",
            "title",
            "description",
            "starts_on",
            "ends_on",
            "regions",
            "categories",
        ]
        extra_kwargs = {
            "regions": {"help_text": "Each within one of the promotion's regions."},
            "categories": {
                "help_text": "Each within one of the promotion's categories."
            },
        }

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        if view is not None and not getattr(view, "swagger_fake_view", False):
            fields["promotion"].queryset = promotions_for_partner(view.partner)
        return fields


class PlanUpdateIn(VersionedUpdateMixin, PlanIn):
    class Meta(PlanIn.Meta):
        fields = [*PlanIn.Meta.fields, "version"]


class FundRequestIn(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=20, decimal_places=6)
    purpose = serializers.CharField(max_length=255)


class ExecutionIn(ModelSerializer):
    class Meta:
        model = ExecutionReport
        fields = ["reported_on", "spent", "leads", "sales_amount", "summary"]
        extra_kwargs = {"reported_on": {"required": False}}


class PortalPlanViewSet(
    PortalAPIMixin, ServiceWriteMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """The partner's plans: create (draft), change a draft or rejected one, submit to
    HQ; request co-marketing funds; report results of an approved plan."""

    spec = REGISTRY["channels.portal_partnerplan"]
    output_serializer_class = PlanDetailOut
    create_service = services.plan_create
    update_service = services.plan_update
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("regions", "categories")

    def get_serializer_class(self):
        return {
            "list": PlanOut,
            "create": PlanIn,
            "update": PlanUpdateIn,
            "partial_update": PlanUpdateIn,
            "fund_requests": FundRequestIn,
            "executions": ExecutionIn,
            "submit": None,
        }.get(self.action) or PlanDetailOut

    def _out(self, obj, status=200):
        obj = portal_plan_get(partner=self.partner, pk=obj.pk)
        return super()._out(obj, status)

    @extend_schema(request=PlanIn, responses={201: PlanDetailOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=PlanUpdateIn, responses={200: PlanDetailOut, 409: None})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=PlanUpdateIn, responses={200: PlanDetailOut, 409: None})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: PlanDetailOut, 409: None})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        plan = services.plan_submit(actor=request.user, plan=self.get_object())
        return self._out(plan)

    @extend_schema(request=FundRequestIn, responses={201: FundRequestOut, 409: None})
    @action(detail=True, methods=["post"], url_path="fund-requests")
    def fund_requests(self, request, pk=None):
        plan = self.get_object()
        data = FundRequestIn(data=request.data)
        data.is_valid(raise_exception=True)
        fund = services.fundrequest_create(
            actor=request.user, plan=plan, **data.validated_data
        )
        return self._raw(FundRequestOut(fund).data, 201)

    @extend_schema(request=ExecutionIn, responses={201: ExecutionOut, 409: None})
    @action(detail=True, methods=["post"])
    def executions(self, request, pk=None):
        plan = self.get_object()
        data = ExecutionIn(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.execution_create(
            actor=request.user, plan=plan, data=dict(data.validated_data)
        )
        return self._raw(ExecutionOut(report).data, 201)

    def _raw(self, data, status):
        return Response(data, status=status)


router = SimpleRouter()
router.register("promotions", PortalPromotionViewSet, basename="portal-promotion")
router.register("plans", PortalPlanViewSet, basename="portal-plan")
urlpatterns = router.urls
