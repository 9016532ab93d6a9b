"""D10 HQ API (/api/v1/channels/deals/): deal registrations of the partners in the
caller's scope, the registrations each competes with, and the decision."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.channels.api.marketing import status_field
from crm.channels.models import DealRegistration
from crm.channels.selectors.deals import competing, deal_get
from crm.channels.services import deals as services
from crm.core.api.viewsets import ScopedViewSet
from crm.core.lists import REGISTRY

DEAL_FIELDS = [
    "id",
    "number",
    "partner",
    "partner_name",
    "customer",
    "customer_name",
    "region",
    "project",
    "expected_amount",
    "expected_close_on",
    "notes",
    "status",
    "conflict_reason",
    "valid_until",
    "decided_by",
    "decided_at",
    "decision_note",
    "submitted_by",
    "created_at",
]


class DealOut(serializers.ModelSerializer):
    status = status_field(DealRegistration.Status.choices)
    partner_name = serializers.CharField(source="partner.name", read_only=True)

    class Meta:
        model = DealRegistration
        fields = DEAL_FIELDS


class CompetitorOut(serializers.ModelSerializer):
    status = status_field(DealRegistration.Status.choices)
    partner_name = serializers.CharField(source="partner.name", read_only=True)

    class Meta:
        model = DealRegistration
        fields = [
            "id",
            "number",
            "partner",
            "partner_name",
            "customer_name",
            "status",
            "valid_until",
            "created_at",
        ]


class DealDetailOut(DealOut):
    competing = serializers.SerializerMethodField()

    class Meta(DealOut.Meta):
        fields = [*DEAL_FIELDS, "competing"]

    @extend_schema(responses=CompetitorOut(many=True))
    def get_competing(self, obj) -> list:
        return CompetitorOut(competing(obj), many=True).data


class DecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[("approve", "approve"), ("reject", "reject")],
        help_text="approve: protect this registration (the competing ones are "
        "rejected); reject: close it.",
    )
    note = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="The reason the partners read.",
    )


class DealViewSet(ScopedViewSet):
    """D10 deal registrations (报备); filter ?status=conflict for conflicts and
    ?partner=<id>. Deciding needs channels.decide_dealregistration; a registration is
    decided once (409 after)."""

    spec = REGISTRY["channels.dealregistration"]

    def get_serializer_class(self):
        if self.action == "list":
            return DealOut
        if self.action == "decide":
            return DecisionIn
        return DealDetailOut

    @extend_schema(request=DecisionIn, responses={200: DealDetailOut, 409: None})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        deal = self.get_object()
        data = DecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.deal_decide(
            actor=request.user,
            deal=deal,
            approve=data.validated_data["decision"] == "approve",
            note=data.validated_data.get("note", ""),
        )
        deal = deal_get(actor=request.user, pk=deal.pk)
        return Response(DealDetailOut(deal).data)


router = SimpleRouter()
router.register("deals", DealViewSet, basename="channels-deal")
urlpatterns = router.urls
