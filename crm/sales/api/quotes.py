"""Quote API (S3, X2): the same selectors, services and permissions as the pages.

    GET/POST         /api/v1/sales/quotes/                    list (filters, q, sort), create
    GET/PUT/PATCH    /api/v1/sales/quotes/{id}/               detail with lines; update with version
    GET/POST         /api/v1/sales/quotes/{id}/lines/         the lines; add one
    PATCH/DELETE     /api/v1/sales/quotes/{id}/lines/{line_id}/
    POST             /api/v1/sales/quotes/{id}/{submit,withdraw,approve,reject,send,
                     accept,decline,cancel,revise}/

Line writes answer the whole quote (its lines, new totals and version). A quote outside
the caller's data scope is 404 everywhere; a change to a quote that is not draft or
rejected, or a status change from the wrong status, is 409.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
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
from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin
from crm.core.lists import REGISTRY
from crm.core.money import rmb_capitals
from crm.customers.models import Contact
from crm.customers.selectors import customer_queryset
from crm.products.models import PriceList, Product
from crm.sales.models import Opportunity, Quote, QuoteLine
from crm.sales.models.base import MONEY, PERCENT, QUANTITY
from crm.sales.selectors.quotes import quote_line_get, quote_lines
from crm.sales.services import quotes as services


class QuoteLineOut(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)

    class Meta:
        model = QuoteLine
        fields = [
            "id",
            "product",
            "product_code",
            "product_name",
            "unit",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "tax_rate",
            "amount",
            "tax_amount",
            "total",
            "sort_order",
        ]


class QuoteOut(FieldRightsMixin, serializers.ModelSerializer):
    """A quote with its lines and the total in Chinese capitals (CNY quotes)."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    lines = QuoteLineOut(many=True, read_only=True)
    total_in_words = serializers.SerializerMethodField()

    class Meta:
        model = Quote
        fields = [
            "id",
            "number",
            "title",
            "customer",
            "customer_name",
            "contact",
            "opportunity",
            "price_list",
            "status",
            "quoted_on",
            "valid_until",
            "currency",
            "terms",
            "notes",
            "amount",
            "tax_amount",
            "total",
            "total_in_words",
            "revision",
            "previous",
            "submitted_at",
            "submitted_by",
            "decided_by",
            "decided_at",
            "decision_note",
            "owner",
            "department",
            "version",
            "created_at",
            "updated_at",
            "lines",
        ]

    @extend_schema_field(OpenApiTypes.STR)
    def get_total_in_words(self, obj) -> str:
        return rmb_capitals(obj.total) if obj.currency == "CNY" else ""


class ScopedFieldsMixin:
    """Related records are offered from the caller's scopes only (the service checks
    again): a customer, contact, opportunity, price list or product they cannot see is
    "does not exist"."""

    scoped = {
        "customer": lambda user: customer_queryset(actor=user),
        "contact": lambda user: Contact.objects.visible_to(user),
        "opportunity": lambda user: Opportunity.objects.visible_to(user),
        "price_list": lambda user: PriceList.objects.visible_to(user),
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


class QuoteIn(ScopedFieldsMixin, FieldRightsMixin, ModelSerializer):
    class Meta:
        model = Quote
        fields = list(services.HEADER_FIELDS)


class QuoteUpdate(VersionedUpdateMixin, QuoteIn):
    class Meta(QuoteIn.Meta):
        fields = [*QuoteIn.Meta.fields, "version"]


class QuoteLineIn(ScopedFieldsMixin, serializers.Serializer):
    """A line; without unit_price the price list's (else the list) price applies."""

    product = IdRelatedField(queryset=Product.objects.none())
    description = serializers.CharField(
        max_length=255, required=False, allow_blank=True
    )
    quantity = serializers.DecimalField(**QUANTITY, required=False)
    unit_price = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    discount_percent = serializers.DecimalField(**PERCENT, required=False)
    tax_rate = serializers.DecimalField(**PERCENT, required=False)
    sort_order = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False
    )


class QuoteLinePatch(QuoteLineIn):
    product = IdRelatedField(queryset=Product.objects.none(), required=False)


class QuoteNoteIn(serializers.Serializer):
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class QuoteRejectIn(serializers.Serializer):
    note = serializers.CharField(max_length=255)


LINE_ID = OpenApiParameter(
    "line_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Line id"
)
CONFLICT = {409: None}


class QuoteViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """S3 quotes. No DELETE: drafts are deleted on the page, others are cancelled."""

    spec = REGISTRY["sales.quote"]
    pagination_class = IdCursorPagination
    output_serializer_class = QuoteOut
    create_service = services.quote_create
    update_service = services.quote_update
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("customer")
            .prefetch_related("lines__product")
        )

    def get_serializer_class(self):
        return {
            "create": QuoteIn,
            "update": QuoteUpdate,
            "partial_update": QuoteUpdate,
        }.get(self.action, QuoteOut)

    def _fresh(self, pk) -> Quote:
        return self.get_queryset().get(pk=pk)

    @extend_schema(request=QuoteIn, responses={201: QuoteOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=QuoteUpdate, responses={200: QuoteOut, 409: None})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=QuoteUpdate, responses={200: QuoteOut, 409: None})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def _out(self, obj, status=200):
        return Response(
            QuoteOut(self._fresh(obj.pk), context=self.get_serializer_context()).data,
            status=status,
        )

    # Lines

    @extend_schema(
        methods=["GET"], request=None, responses={200: QuoteLineOut(many=True)}
    )
    @extend_schema(
        methods=["POST"], request=QuoteLineIn, responses={201: QuoteOut, **CONFLICT}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        pagination_class=None,
    )
    def lines(self, request, pk=None):
        """GET: the quote's lines. POST: add a line (draft or rejected quotes only)."""
        quote = self.get_object()
        if request.method == "GET":
            return Response(QuoteLineOut(quote_lines(quote=quote), many=True).data)
        serializer = QuoteLineIn(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        services.quote_line_add(
            actor=request.user, quote=quote, data=dict(serializer.validated_data)
        )
        return self._out(quote, 201)

    @extend_schema(
        methods=["PATCH"],
        parameters=[LINE_ID],
        request=QuoteLinePatch,
        responses={200: QuoteOut, **CONFLICT},
    )
    @extend_schema(
        methods=["DELETE"],
        parameters=[LINE_ID],
        request=None,
        responses={200: QuoteOut, **CONFLICT},
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"lines/(?P<line_id>[^/.]+)",
        filter_backends=[],
        pagination_class=None,
    )
    def line(self, request, pk=None, line_id=None):
        """PATCH: change a line. DELETE: remove it. Both answer the quote."""
        quote = self.get_object()
        line = quote_line_get(actor=request.user, quote=quote, pk=line_id)
        if request.method == "DELETE":
            services.quote_line_remove(actor=request.user, line=line)
            return self._out(quote)
        serializer = QuoteLinePatch(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        services.quote_line_update(
            actor=request.user, line=line, data=dict(serializer.validated_data)
        )
        return self._out(quote)

    # Status changes

    def _change(self, service, *, serializer=None, status=200):
        quote = self.get_object()
        kwargs = {}
        if serializer is not None:
            data = serializer(data=self.request.data)
            data.is_valid(raise_exception=True)
            kwargs["note"] = data.validated_data.get("note", "")
        result = service(actor=self.request.user, quote=quote, **kwargs)
        return self._out(result, status)

    @extend_schema(request=None, responses={200: QuoteOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Approved at once, or pending approval when a line's discount exceeds the
        quote_discount_approval_percent parameter."""
        return self._change(services.quote_submit)

    @extend_schema(request=None, responses={200: QuoteOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """A quote pending approval goes back to draft."""
        return self._change(services.quote_withdraw)

    @extend_schema(request=QuoteNoteIn, responses={200: QuoteOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Needs core.approve_discount; not on one's own quote (superusers excepted)."""
        return self._change(services.quote_approve, serializer=QuoteNoteIn)

    @extend_schema(request=QuoteRejectIn, responses={200: QuoteOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Needs core.approve_discount and a note saying why."""
        return self._change(services.quote_reject, serializer=QuoteRejectIn)

    @extend_schema(request=None, responses={200: QuoteOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        return self._change(services.quote_send)

    @extend_schema(request=None, responses={200: QuoteOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._change(services.quote_accept)

    @extend_schema(request=QuoteNoteIn, responses={200: QuoteOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._change(services.quote_decline, serializer=QuoteNoteIn)

    @extend_schema(request=QuoteNoteIn, responses={200: QuoteOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._change(services.quote_cancel, serializer=QuoteNoteIn)

    @extend_schema(request=None, responses={201: QuoteOut, **CONFLICT})
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        """A new draft revision (BJ000012-2…); the old quote becomes superseded."""
        return self._change(services.quote_revise, status=201)


router = SimpleRouter()
router.register("quotes", QuoteViewSet, basename="quote")
urlpatterns = router.urls
