"""HQ API: cooperation agreements (/api/v1/channels/agreements/), over the same
selectors, services and permissions as the pages. Rules (rebate tiers and penalties)
are a sub-resource; activate, terminate and renew are actions. Outside the caller's
channel scope: 404."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.channels.models import Agreement, AgreementTerm, Partner
from crm.channels.models.base import MONEY, PERCENT
from crm.channels.selectors.agreements import agreement_rule_get
from crm.channels.selectors.partners_scope import partners_visible
from crm.channels.services import agreements as services
from crm.core.api.serializers import (
    FieldRightsMixin,
    IdRelatedField,
    ModelSerializer,
    VersionedUpdateMixin,
)
from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin
from crm.core.lists import REGISTRY
from crm.customers.models import Region
from crm.products.models import Category, PriceList

HEADER_FIELDS = [
    "partner",
    "title",
    "starts_on",
    "ends_on",
    "signed_on",
    "price_list",
    "discount_percent",
    "annual_target",
    "territory",
    "categories",
    "terms",
]


class AgreementRuleOut(serializers.ModelSerializer):
    class Meta:
        model = AgreementTerm
        fields = ["id", "kind", "threshold_percent", "percent", "amount", "description"]


class AgreementOut(FieldRightsMixin, serializers.ModelSerializer):
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    previous_number = serializers.CharField(
        source="previous.number", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Agreement
        fields = [
            "id",
            "number",
            "partner",
            "partner_name",
            "title",
            "status",
            "starts_on",
            "ends_on",
            "signed_on",
            "territory",
            "categories",
            "price_list",
            "discount_percent",
            "annual_target",
            "terms",
            "previous",
            "previous_number",
            "termination_reason",
            "expiry_notified_on",
            "owner",
            "department",
            "version",
            "created_at",
            "updated_at",
        ]


class AgreementDetailOut(AgreementOut):
    rules = AgreementRuleOut(many=True, read_only=True)

    class Meta(AgreementOut.Meta):
        fields = [*AgreementOut.Meta.fields, "rules"]


class AgreementIn(ModelSerializer):
    partner = IdRelatedField(queryset=Partner.objects.all())
    price_list = IdRelatedField(
        queryset=PriceList.objects.all(), required=False, allow_null=True
    )
    territory = IdRelatedField(queryset=Region.objects.all(), many=True, required=False)
    categories = IdRelatedField(
        queryset=Category.objects.all(), many=True, required=False
    )
    discount_percent = serializers.DecimalField(
        **PERCENT, required=False, min_value=0, max_value=100
    )
    annual_target = serializers.DecimalField(**MONEY, required=False, min_value=0)

    class Meta:
        model = Agreement
        fields = HEADER_FIELDS

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and not getattr(
            self.context.get("view"), "swagger_fake_view", False
        ):
            fields["partner"].queryset = partners_visible(request.user)
        return fields


class AgreementUpdate(VersionedUpdateMixin, AgreementIn):
    partner = IdRelatedField(queryset=Partner.objects.all(), required=False)
    title = serializers.CharField(max_length=100, required=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)

    class Meta(AgreementIn.Meta):
        fields = [*HEADER_FIELDS, "version"]


class AgreementRuleIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AgreementTerm.Kind.choices)
    threshold_percent = serializers.DecimalField(**PERCENT, min_value=0, max_value=999)
    percent = serializers.DecimalField(
        **PERCENT, required=False, min_value=0, max_value=100
    )
    amount = serializers.DecimalField(**MONEY, required=False, min_value=0)
    description = serializers.CharField(
        max_length=255, required=False, allow_blank=True
    )


class AgreementRuleUpdate(AgreementRuleIn):
    kind = serializers.ChoiceField(choices=AgreementTerm.Kind.choices, required=False)
    threshold_percent = serializers.DecimalField(
        **PERCENT, min_value=0, max_value=999, required=False
    )


class AgreementTerminateIn(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


RULE_ID = OpenApiParameter("rule_id", int, OpenApiParameter.PATH)
DETAIL = {200: AgreementDetailOut, 409: None}


class AgreementViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """D2 cooperation agreements. Drafts are changed (header, rules); activate,
    terminate (with a reason) and renew move the status. Outside the caller's channel
    scope: 404."""

    spec = REGISTRY["channels.agreement"]
    output_serializer_class = AgreementDetailOut
    create_service = services.agreement_create
    update_service = services.agreement_update
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        qs = super().get_queryset().select_related("partner", "previous")
        qs = qs.prefetch_related("territory", "categories")
        if self.action != "list":
            qs = qs.prefetch_related("rules")
        return qs

    def get_serializer_class(self):
        return {
            "create": AgreementIn,
            "update": AgreementUpdate,
            "partial_update": AgreementUpdate,
            "list": AgreementOut,
        }.get(self.action, AgreementDetailOut)

    def _detail(self, agreement, status=200):
        agreement = self.get_queryset().get(pk=agreement.pk)
        return self._out(agreement, status)

    @extend_schema(request=AgreementIn, responses={201: AgreementDetailOut})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agreement = services.agreement_create(
            actor=request.user, data=dict(serializer.validated_data)
        )
        return self._detail(agreement, 201)

    @extend_schema(request=AgreementUpdate, responses=DETAIL)
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=AgreementUpdate, responses=DETAIL)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(request=None, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """A draft comes into force; refused (409) while another agreement of the
        partner is in force in an overlapping period, or for a terminated partner."""
        agreement = services.agreement_activate(
            actor=request.user, agreement=self.get_object()
        )
        return self._detail(agreement)

    @extend_schema(request=AgreementTerminateIn, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        """End an agreement in force, with a reason."""
        serializer = AgreementTerminateIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        agreement = services.agreement_terminate(
            actor=request.user,
            agreement=self.get_object(),
            reason=serializer.validated_data["reason"],
        )
        return self._detail(agreement)

    @extend_schema(request=None, responses={201: AgreementDetailOut, 409: None})
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        """Draft the next agreement from an active or expired one (copied terms, scope
        and rules; valid from the day after it ends, for the same length). Once."""
        renewal = services.agreement_renew(
            actor=request.user, agreement=self.get_object()
        )
        return self._detail(renewal, 201)

    @extend_schema(
        request=AgreementRuleIn, responses={201: AgreementRuleOut, 409: None}
    )
    @action(detail=True, methods=["post"], url_path="rules")
    def rules(self, request, pk=None):
        """Add a rebate tier or a penalty to a draft."""
        agreement = self.get_object()
        serializer = AgreementRuleIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = services.agreement_rule_add(
            actor=request.user,
            agreement=agreement,
            data=dict(serializer.validated_data),
        )
        return Response(AgreementRuleOut(rule).data, status=201)

    @extend_schema(
        methods=["PATCH"],
        parameters=[RULE_ID],
        request=AgreementRuleUpdate,
        responses={200: AgreementRuleOut, 409: None},
    )
    @extend_schema(
        methods=["DELETE"], parameters=[RULE_ID], responses={204: None, 409: None}
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"rules/(?P<rule_id>[0-9]+)",
    )
    def rule(self, request, pk=None, rule_id=None):
        """Change or remove a rule of a draft."""
        agreement = self.get_object()
        rule = agreement_rule_get(agreement=agreement, pk=rule_id)
        if request.method == "DELETE":
            services.agreement_rule_remove(actor=request.user, rule=rule)
            return Response(status=204)
        serializer = AgreementRuleUpdate(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        rule = services.agreement_rule_update(
            actor=request.user, rule=rule, data=dict(serializer.validated_data)
        )
        return Response(AgreementRuleOut(rule).data)


router = SimpleRouter()
router.register("agreements", AgreementViewSet, basename="channels-agreement")
urlpatterns = router.urls
