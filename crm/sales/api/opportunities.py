"""Opportunity API (S2, X2): the same selectors, services and permissions as the pages.

    GET/POST       /api/v1/sales/opportunities/                 list (filters, q, sort), create
    GET/PUT/PATCH  /api/v1/sales/opportunities/{id}/            detail; update with version
    POST           /api/v1/sales/opportunities/{id}/move/       to another stage (version)
    POST           /api/v1/sales/opportunities/{id}/close/      won or lost, with the reason
    POST           /api/v1/sales/opportunities/{id}/reopen/
    GET/POST       /api/v1/sales/opportunities/{id}/products/   product lines; add one
    DELETE         /api/v1/sales/opportunities/{id}/products/{line_id}/?version=
    GET            /api/v1/sales/stages/                        pipeline stages
    GET/POST       /api/v1/sales/competitors/                   competitors (read for reps)
    GET/PUT/PATCH  /api/v1/sales/competitors/{id}/

An opportunity outside the caller's data scope is 404 everywhere; a stale version, or a
change to a closed opportunity (only reopen is allowed), is 409.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.pagination import IdCursorPagination
from crm.core.api.serializers import (
    FieldRightsMixin,
    IdRelatedField,
    ModelSerializer,
    VersionedUpdateMixin,
)
from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin, object_id
from crm.core.errors import Invalid
from crm.core.lists import REGISTRY
from crm.customers.models import Contact
from crm.customers.selectors import customer_queryset
from crm.products.models import Product
from crm.sales.models import Competitor, Lead, Opportunity, OpportunityProduct, Stage
from crm.sales.models.base import MONEY, QUANTITY
from crm.sales.selectors.opportunities import opportunity_products, product_lines
from crm.sales.services import opportunities as services

MONEY_OUT = {"max_digits": 32, "decimal_places": 6}


class StageOut(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "kind", "probability", "sort_order", "is_active"]


class OpportunityProductOut(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    amount = serializers.DecimalField(source="line_amount", read_only=True, **MONEY_OUT)

    class Meta:
        model = OpportunityProduct
        fields = [
            "id",
            "product",
            "product_code",
            "product_name",
            "quantity",
            "unit_price",
            "amount",
        ]


class OpportunityOut(FieldRightsMixin, serializers.ModelSerializer):
    """An opportunity with its stage, probability, product lines and competitors."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    probability = serializers.IntegerField(source="stage.probability", read_only=True)
    products = OpportunityProductOut(many=True, read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "number",
            "name",
            "customer",
            "customer_name",
            "contact",
            "stage",
            "stage_name",
            "probability",
            "status",
            "amount",
            "expected_close_on",
            "source",
            "competitors",
            "description",
            "next_step",
            "closed_at",
            "close_reason",
            "lost_to",
            "stage_changed_at",
            "owner",
            "department",
            "version",
            "created_at",
            "updated_at",
            "products",
        ]


class ScopedFieldsMixin:
    """Related records are offered from the caller's scopes only (the service checks
    again): a customer, contact or product they cannot see is "does not exist"."""

    scoped = {
        "customer": lambda user: customer_queryset(actor=user),
        "contact": lambda user: Contact.objects.visible_to(user),
        "product": lambda user: Product.objects.visible_to(user),
    }

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None or getattr(
            self.context.get("view"), "swagger_fake_view", False
        ):
            return fields
        for name, queryset in self.scoped.items():
            if name in fields:
                fields[name].queryset = queryset(request.user)
        return fields


class ProductLineIn(ScopedFieldsMixin, serializers.Serializer):
    """A product line; without unit_price the product's list price applies."""

    product = IdRelatedField(queryset=Product.objects.none())
    quantity = serializers.DecimalField(**QUANTITY, required=False)
    unit_price = serializers.DecimalField(**MONEY, required=False, allow_null=True)


class OpportunityIn(ScopedFieldsMixin, FieldRightsMixin, ModelSerializer):
    """A new opportunity: without a stage, the first active open one; with products and
    no amount, the amount is the products' total."""

    source = serializers.ChoiceField(
        choices=Lead.Source.choices, required=False, allow_blank=True
    )
    competitors = IdRelatedField(
        queryset=Competitor.objects.all(), many=True, required=False
    )
    products = ProductLineIn(many=True, required=False)

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "customer",
            "contact",
            "stage",
            "amount",
            "expected_close_on",
            "source",
            "competitors",
            "description",
            "next_step",
            "products",
        ]
        extra_kwargs = {"stage": {"required": False}}


class OpportunityUpdate(VersionedUpdateMixin, OpportunityIn):
    """The stage changes by move/close/reopen, the products through /products/."""

    class Meta(OpportunityIn.Meta):
        fields = [
            "name",
            "customer",
            "contact",
            "amount",
            "expected_close_on",
            "source",
            "competitors",
            "description",
            "next_step",
            "version",
        ]

    def get_fields(self):
        fields = super().get_fields()
        fields.pop("products", None)
        return fields


class MoveIn(serializers.Serializer):
    stage = IdRelatedField(queryset=Stage.objects.all())
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)
    lost_to = IdRelatedField(
        queryset=Competitor.objects.all(), required=False, allow_null=True
    )


class CloseIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["won", "lost"])
    reason = serializers.CharField(max_length=255)
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    lost_to = IdRelatedField(
        queryset=Competitor.objects.all(), required=False, allow_null=True
    )


class ReopenIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    stage = IdRelatedField(
        queryset=Stage.objects.all(), required=False, allow_null=True
    )


class ProductAddIn(ProductLineIn):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


LINE_ID = OpenApiParameter(
    "line_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Line id"
)
VERSION = OpenApiParameter(
    "version",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    required=True,
    description="The opportunity's version the client read",
)
CONFLICT = {409: None}


class OpportunityViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """S2 opportunities. No DELETE: an opportunity is closed as lost instead."""

    spec = REGISTRY["sales.opportunity"]
    pagination_class = IdCursorPagination
    output_serializer_class = OpportunityOut
    update_service = services.opportunity_update
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("customer", "stage")
            .prefetch_related(
                "competitors", Prefetch("products", queryset=product_lines())
            )
        )

    def get_serializer_class(self):
        return {
            "create": OpportunityIn,
            "update": OpportunityUpdate,
            "partial_update": OpportunityUpdate,
        }.get(self.action, OpportunityOut)

    def _out(self, obj, status=200):
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(
            OpportunityOut(fresh, context=self.get_serializer_context()).data,
            status=status,
        )

    @extend_schema(request=OpportunityIn, responses={201: OpportunityOut})
    def create(self, request, *args, **kwargs):
        serializer = OpportunityIn(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        products = [dict(line) for line in data.pop("products", [])]
        obj = services.opportunity_create(
            actor=request.user, data=data, products=products
        )
        return self._out(obj, 201)

    @extend_schema(
        request=OpportunityUpdate, responses={200: OpportunityOut, **CONFLICT}
    )
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(
        request=OpportunityUpdate, responses={200: OpportunityOut, **CONFLICT}
    )
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def _input(self, serializer_class):
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=MoveIn, responses={200: OpportunityOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """To another active stage; a won or lost stage closes it (reason required)."""
        opportunity = self.get_object()
        data = self._input(MoveIn)
        moved = services.opportunity_move(
            actor=request.user,
            opportunity=opportunity,
            stage=data["stage"],
            version=data["version"],
            reason=data.get("reason", ""),
            lost_to=data.get("lost_to"),
        )
        return self._out(moved)

    @extend_schema(request=CloseIn, responses={200: OpportunityOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Into the first active won (or lost) stage, with the reason."""
        opportunity = self.get_object()
        data = self._input(CloseIn)
        closed = services.opportunity_close(
            actor=request.user,
            opportunity=opportunity,
            outcome=data["outcome"],
            reason=data["reason"],
            version=data["version"],
            lost_to=data.get("lost_to"),
        )
        return self._out(closed)

    @extend_schema(request=ReopenIn, responses={200: OpportunityOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """A won or lost opportunity becomes open again, in `stage` or the open stage
        it was closed from."""
        opportunity = self.get_object()
        data = self._input(ReopenIn)
        reopened = services.opportunity_reopen(
            actor=request.user,
            opportunity=opportunity,
            version=data["version"],
            stage=data.get("stage"),
        )
        return self._out(reopened)

    @extend_schema(
        methods=["GET"], request=None, responses={200: OpportunityProductOut(many=True)}
    )
    @extend_schema(
        methods=["POST"],
        request=ProductAddIn,
        responses={201: OpportunityOut, **CONFLICT},
    )
    @action(
        detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None
    )
    def products(self, request, pk=None):
        """GET: the product lines. POST: add one (open opportunities only)."""
        opportunity = self.get_object()
        if request.method == "GET":
            lines = opportunity_products(opportunity=opportunity)
            return Response(OpportunityProductOut(lines, many=True).data)
        data = dict(self._input(ProductAddIn))
        version = data.pop("version")
        updated = services.opportunity_product_add(
            actor=request.user, opportunity=opportunity, data=data, version=version
        )
        return self._out(updated, 201)

    @extend_schema(
        parameters=[LINE_ID, VERSION],
        request=None,
        responses={200: OpportunityOut, **CONFLICT},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"products/(?P<line_id>[^/.]+)",
        filter_backends=[],
        pagination_class=None,
    )
    def product(self, request, pk=None, line_id=None):
        """Remove a product line; answers the opportunity."""
        opportunity = self.get_object()
        version = request.query_params.get("version")
        if not str(version or "").isdigit() or len(str(version)) > 10:
            raise Invalid(
                _("The record version is missing."),
                fields={"version": [_("This field is required.")]},
            )
        updated = services.opportunity_product_remove(
            actor=request.user,
            opportunity=opportunity,
            line_id=object_id(line_id, _("Product line")),
            version=int(version),
        )
        return self._out(updated)


class StageViewSet(ScopedViewSet):
    """Pipeline stages with their probabilities (configured on the stage settings page)."""

    spec = REGISTRY["sales.stage"]
    serializer_class = StageOut
    pagination_class = None


class CompetitorIn(FieldRightsMixin, ModelSerializer):
    class Meta:
        model = Competitor
        fields = list(services.COMPETITOR_FIELDS)


class CompetitorOut(serializers.ModelSerializer):
    class Meta:
        model = Competitor
        fields = [
            "id",
            "name",
            "website",
            "strengths",
            "weaknesses",
            "notes",
            "is_active",
            "created_at",
            "updated_at",
        ]


class CompetitorViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """Competitors: what reps should know. Reading needs view_competitor; writes the
    add/change permissions."""

    spec = REGISTRY["sales.competitor"]
    pagination_class = IdCursorPagination
    output_serializer_class = CompetitorOut
    create_service = services.competitor_create
    update_service = services.competitor_update

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return CompetitorIn
        return CompetitorOut

    @extend_schema(request=CompetitorIn, responses={201: CompetitorOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=CompetitorIn, responses={200: CompetitorOut})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=CompetitorIn, responses={200: CompetitorOut})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


router = SimpleRouter()
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("stages", StageViewSet, basename="stage")
router.register("competitors", CompetitorViewSet, basename="competitor")
urlpatterns = router.urls
