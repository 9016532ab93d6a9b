"""D9 HQ API (/api/v1/channels/promotions/, plans/, fund-requests/): the same
selectors, services and permissions as the pages."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.channels.models import ExecutionReport, FundRequest, PartnerPlan, Promotion
from crm.channels.selectors.marketing import (
    fundrequest_get,
    plan_get,
    plan_totals,
    with_fund_used,
)
from crm.channels.services import marketing as services
from crm.core.api.serializers import ModelSerializer, VersionedUpdateMixin
from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin
from crm.core.lists import REGISTRY

MONEY_OUT = {"max_digits": 30, "decimal_places": 6, "read_only": True}


def status_field(choices) -> serializers.CharField:
    """A read-only status whose values are listed in its description: an enum would
    need one more named component per model's `status` (spectacular's collision
    warning fails the deploy check while the overrides live in shared settings)."""

    @extend_schema_field(
        {
            "type": "string",
            "description": "One of: " + ", ".join(str(v) for v, _label in choices),
        }
    )
    class StatusField(serializers.CharField):
        pass

    return StatusField(read_only=True)


class PromotionOut(serializers.ModelSerializer):
    status = status_field(Promotion.Status.choices)
    fund_used = serializers.DecimalField(
        **MONEY_OUT, help_text="Co-marketing funds approved over the promotion's plans."
    )
    budget_left = serializers.SerializerMethodField()

    class Meta:
        model = Promotion
        fields = [
            "id",
            "name",
            "description",
            "status",
            "starts_on",
            "ends_on",
            "categories",
            "regions",
            "tiers",
            "fund_budget",
            "fund_used",
            "budget_left",
            "published_at",
            "owner",
            "version",
            "created_at",
            "updated_at",
        ]

    @extend_schema(responses=serializers.DecimalField(max_digits=30, decimal_places=6))
    def get_budget_left(self, obj) -> str:
        return str(obj.fund_budget - obj.fund_used)


class PromotionIn(ModelSerializer):
    class Meta:
        model = Promotion
        fields = [
            "name",
            "description",
            "starts_on",
            "ends_on",
            "categories",
            "regions",
            "tiers",
            "fund_budget",
        ]


class PromotionUpdateIn(VersionedUpdateMixin, PromotionIn):
    class Meta(PromotionIn.Meta):
        fields = [*PromotionIn.Meta.fields, "version"]


class NoteIn(serializers.Serializer):
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class PromotionViewSet(ServiceWriteMixin, mixins.CreateModelMixin, ScopedViewSet):
    """D9 promotions: published ones for every reader, drafts within the data scope.
    Dates and scope are fixed once published; publish and cancel need
    channels.publish_promotion."""

    spec = REGISTRY["channels.promotion"]
    output_serializer_class = PromotionOut
    create_service = services.promotion_create
    update_service = services.promotion_update
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.prefetch_related("categories", "regions", "tiers")

    def get_serializer_class(self):
        if self.action == "create":
            return PromotionIn
        if self.action in ("update", "partial_update"):
            return PromotionUpdateIn
        if self.action in ("publish", "cancel"):
            return NoteIn
        return PromotionOut

    def _out(self, obj, status=200):
        obj = with_fund_used(
            Promotion.objects.filter(pk=obj.pk).prefetch_related(
                "categories", "regions", "tiers"
            )
        ).get()
        return super()._out(obj, status)

    @extend_schema(request=PromotionIn, responses={201: PromotionOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=PromotionUpdateIn, responses={200: PromotionOut, 409: None})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=PromotionUpdateIn, responses={200: PromotionOut, 409: None})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: PromotionOut, 409: None})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish a draft to the partners it addresses."""
        promotion = self.get_object()
        return self._out(
            services.promotion_publish(actor=request.user, promotion=promotion)
        )

    @extend_schema(request=NoteIn, responses={200: PromotionOut, 409: None})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        promotion = self.get_object()
        data = NoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(
            services.promotion_cancel(
                actor=request.user,
                promotion=promotion,
                note=data.validated_data.get("note", ""),
            )
        )


class FundRequestOut(serializers.ModelSerializer):
    status = status_field(FundRequest.Status.choices)

    class Meta:
        model = FundRequest
        fields = [
            "id",
            "plan",
            "amount",
            "approved_amount",
            "purpose",
            "status",
            "requested_by",
            "decided_by",
            "decided_at",
            "decision_note",
            "created_at",
        ]


class ExecutionOut(serializers.ModelSerializer):
    class Meta:
        model = ExecutionReport
        fields = [
            "id",
            "reported_on",
            "spent",
            "leads",
            "sales_amount",
            "summary",
            "submitted_by",
            "created_at",
        ]


class PlanTotalsOut(serializers.Serializer):
    requested = serializers.DecimalField(**MONEY_OUT)
    approved = serializers.DecimalField(**MONEY_OUT)
    spent = serializers.DecimalField(**MONEY_OUT)
    unspent = serializers.DecimalField(
        **MONEY_OUT, help_text="Approved funds minus spent (negative: overspent)."
    )
    leads = serializers.IntegerField(read_only=True)
    sales = serializers.DecimalField(**MONEY_OUT)


class PlanOut(serializers.ModelSerializer):
    status = status_field(PartnerPlan.Status.choices)
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    promotion_name = serializers.CharField(source="promotion.name", read_only=True)

    class Meta:
        model = PartnerPlan
        fields = [
            "id",
            "partner",
            "partner_name",
            "promotion",
            "promotion_name",
            "title",
            "description",
            "starts_on",
            "ends_on",
            "regions",
            "categories",
            "status",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        ]


class PlanDetailOut(PlanOut):
    fund_requests = FundRequestOut(many=True, read_only=True)
    executions = ExecutionOut(many=True, read_only=True)
    totals = serializers.SerializerMethodField()

    class Meta(PlanOut.Meta):
        fields = [*PlanOut.Meta.fields, "fund_requests", "executions", "totals"]

    @extend_schema(responses=PlanTotalsOut)
    def get_totals(self, obj) -> dict:
        return PlanTotalsOut(plan_totals(obj)).data


class PlanViewSet(ScopedViewSet):
    """D9 partner plans of the partners in the caller's scope, with their fund
    requests, execution reports and totals; approve or reject a submitted plan."""

    spec = REGISTRY["channels.partnerplan"]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("regions", "categories")

    def get_serializer_class(self):
        if self.action == "list":
            return PlanOut
        if self.action in ("approve", "reject"):
            return NoteIn
        return PlanDetailOut

    def _decide(self, request, service):
        plan = self.get_object()
        data = NoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        service(actor=request.user, plan=plan, note=data.validated_data.get("note", ""))
        plan = plan_get(actor=request.user, pk=plan.pk)
        return self._respond(plan)

    def _respond(self, plan):
        return Response(PlanDetailOut(plan, context=self.get_serializer_context()).data)

    @extend_schema(request=NoteIn, responses={200: PlanDetailOut, 409: None})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, services.plan_approve)

    @extend_schema(request=NoteIn, responses={200: PlanDetailOut, 409: None})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, services.plan_reject)


class FundDecisionIn(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=20,
        decimal_places=6,
        required=False,
        allow_null=True,
        help_text="Approve: the amount granted (at most the amount requested; "
        "default all of it).",
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class FundRequestViewSet(ScopedViewSet):
    """D9 co-marketing fund requests of the partners in scope. Approving (also for
    less than requested) or rejecting needs channels.approve_fundrequest; approved
    funds never exceed the promotion's budget (409 naming what remains)."""

    spec = REGISTRY["channels.fundrequest"]

    def get_serializer_class(self):
        if self.action in ("approve", "reject"):
            return FundDecisionIn
        return FundRequestOut

    def _done(self, fund):
        return Response(
            FundRequestOut(fundrequest_get(actor=self.request.user, pk=fund.pk)).data
        )

    @extend_schema(request=FundDecisionIn, responses={200: FundRequestOut, 409: None})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        fund = self.get_object()
        data = FundDecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.fundrequest_approve(
            actor=request.user,
            request=fund,
            amount=data.validated_data.get("amount"),
            note=data.validated_data.get("note", ""),
        )
        return self._done(fund)

    @extend_schema(request=FundDecisionIn, responses={200: FundRequestOut, 409: None})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        fund = self.get_object()
        data = FundDecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.fundrequest_reject(
            actor=request.user, request=fund, note=data.validated_data.get("note", "")
        )
        return self._done(fund)


router = SimpleRouter()
router.register("promotions", PromotionViewSet, basename="channels-promotion")
router.register("plans", PlanViewSet, basename="channels-plan")
router.register("fund-requests", FundRequestViewSet, basename="channels-fundrequest")
urlpatterns = router.urls
