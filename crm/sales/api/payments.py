"""S6 payments API: receipts (record with an idempotency key, list, read, void) and
receivables with their aging (read). Same selectors, services and permissions as the
pages.

Recording a receipt: send an `Idempotency-Key` header (or an `idempotency_key` field)
that is new for every receipt and the same on every retry of it. The first request
answers 201; a retry answers 200 with the same receipt and the header
`Idempotent-Replayed: true`, and records nothing. The same key with another instalment
or amount answers 409.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.pagination import CappedPageNumberPagination, IdCursorPagination
from crm.core.api.serializers import (
    FieldRightsMixin,
    IdRelatedField,
    ModelSerializer,
)
from crm.core.api.viewsets import ScopedViewSet
from crm.core.errors import Invalid
from crm.core.lists import REGISTRY
from crm.sales.models import Instalment, Payment
from crm.sales.models.base import MONEY
from crm.sales.selectors.payments import (
    AGING_BUCKETS,
    AGING_KEYS,
    receivable_aging,
    receivable_queryset,
)
from crm.sales.services.payments import payment_record, payment_void

IDEMPOTENCY_HEADER = "Idempotency-Key"


class PaymentOut(FieldRightsMixin, ModelSerializer):
    document_number = serializers.CharField(
        source="instalment.document_number", read_only=True
    )
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "number",
            "instalment",
            "document_number",
            "customer",
            "customer_name",
            "amount",
            "received_on",
            "method",
            "reference",
            "notes",
            "status",
            "owner",
            "department",
            "recorded_by",
            "voided_by",
            "voided_at",
            "void_reason",
            "created_at",
        ]


class PaymentIn(serializers.Serializer):
    """A receipt: the instalment (a receivable the caller may see) and the amount."""

    instalment = IdRelatedField(queryset=Instalment.objects.none())
    amount = serializers.DecimalField(**MONEY)
    received_on = serializers.DateField(required=False)
    method = serializers.ChoiceField(
        choices=Payment.Method.choices, default=Payment.Method.BANK
    )
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=255, required=False, allow_blank=True)
    idempotency_key = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Or the Idempotency-Key header: new per receipt, the same on retries.",
    )

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["instalment"].queryset = Instalment.objects.visible_to(request.user)
        return fields


class VoidIn(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class PaymentViewSet(ScopedViewSet):
    """Receipts (收款单) in the caller's scope. Never deleted: voided."""

    spec = REGISTRY["sales.payment"]
    pagination_class = IdCursorPagination
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("customer", "instalment__contract", "instalment__order")
        )

    def get_serializer_class(self):
        return {"create": PaymentIn, "void": VoidIn}.get(self.action, PaymentOut)

    @extend_schema(
        request=PaymentIn,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                location=OpenApiParameter.HEADER,
                description="New for every receipt, the same on every retry of it "
                "(1–64 letters, digits, '.', '_', ':' or '-').",
            )
        ],
        responses={
            201: PaymentOut,
            200: OpenApiResponse(
                PaymentOut, description="A retry: the receipt recorded before."
            ),
            409: None,
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = PaymentIn(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        header = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        field = (data.pop("idempotency_key", "") or "").strip()
        if header and field and header != field:
            message = _("The Idempotency-Key header and field differ.")
            raise Invalid(message, fields={"idempotency_key": [message]})
        payment = payment_record(
            actor=request.user, idempotency_key=header or field, **data
        )
        response = Response(
            PaymentOut(payment, context=self.get_serializer_context()).data,
            status=200 if payment.replayed else 201,
        )
        if payment.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(request=VoidIn, responses={200: PaymentOut, 409: None})
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Void a receipt (sales.void_payment, a reason): its amount is outstanding
        again. Refused (409) when already voided or dated in a closed commission
        period."""
        payment = self.get_object()
        serializer = VoidIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = payment_void(
            actor=request.user,
            payment=payment,
            reason=serializer.validated_data["reason"],
        )
        return Response(PaymentOut(payment, context=self.get_serializer_context()).data)


class ReceivableOut(FieldRightsMixin, ModelSerializer):
    document_number = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    outstanding = serializers.DecimalField(**MONEY, read_only=True)

    class Meta:
        model = Instalment
        fields = [
            "id",
            "contract",
            "order",
            "document_number",
            "sequence",
            "customer",
            "customer_name",
            "due_on",
            "amount",
            "received",
            "outstanding",
            "is_open",
            "note",
            "owner",
            "department",
        ]


AgingTotalsOut = inline_serializer(
    "AgingTotals",
    {key: serializers.DecimalField(**MONEY) for key in AGING_KEYS},
)
AgingRowOut = inline_serializer(
    "AgingRow",
    {
        "customer": serializers.IntegerField(),
        "customer_number": serializers.CharField(),
        "customer_name": serializers.CharField(),
        **{key: serializers.DecimalField(**MONEY) for key in AGING_KEYS},
    },
)
AgingPageOut = inline_serializer(
    "AgingPage",
    {
        "count": serializers.IntegerField(),
        "count_capped": serializers.BooleanField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "as_of": serializers.DateField(),
        "buckets": serializers.DictField(child=serializers.CharField()),
        "totals": AgingTotalsOut,
        "results": serializers.ListField(child=AgingRowOut),
    },
)


class ReceivableViewSet(ScopedViewSet):
    """Receivables (应收账款): open instalments with money outstanding, in scope."""

    spec = REGISTRY["sales.receivable"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Instalment.objects.none()
        return receivable_queryset(actor=self.request.user).select_related(
            "customer", "contract", "order"
        )

    def get_serializer_class(self):
        return ReceivableOut

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Search text"),
            OpenApiParameter(
                "sort", OpenApiTypes.STR, description="Column; '-' for descending"
            ),
            OpenApiParameter("customer", OpenApiTypes.INT),
            OpenApiParameter("owner", OpenApiTypes.INT),
            OpenApiParameter("department", OpenApiTypes.INT),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={200: AgingPageOut},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def aging(self, request):
        """Outstanding per customer in buckets of days overdue (not yet due, 1–30,
        31–60, 61–90, over 90), and the totals, in the caller's scope."""
        today = timezone.localdate()
        data = receivable_aging(
            actor=request.user, params=request.query_params, today=today
        )
        filterset = data["filterset"]
        if filterset is not None and not filterset.is_valid():
            raise Invalid(
                _("Some filters are invalid."),
                fields={
                    name: [str(m) for m in messages]
                    for name, messages in filterset.errors.items()
                },
            )
        paginator = CappedPageNumberPagination()
        page = paginator.paginate_queryset(data["rows"], request, view=self)
        results = [
            {
                "customer": row["customer"],
                "customer_number": row["customer__number"],
                "customer_name": row["customer__name"],
                **{key: row[key] for key in AGING_KEYS},
            }
            for row in page
        ]
        body = paginator.get_paginated_response(results).data
        body["as_of"] = today
        body["buckets"] = {key: str(label) for key, label, *_rest in AGING_BUCKETS}
        body["totals"] = data["totals"]
        return Response(_render_aging(body))


def _render_aging(body: dict) -> dict:
    """Money as strings with 6 places, as every other money field of the API."""
    field = serializers.DecimalField(**MONEY)
    body["totals"] = {k: field.to_representation(v) for k, v in body["totals"].items()}
    for row in body["results"]:
        for key in AGING_KEYS:
            row[key] = field.to_representation(row[key])
    body["as_of"] = body["as_of"].isoformat()
    return body


router = SimpleRouter()
router.register("payments", PaymentViewSet, basename="sales-payment")
router.register("receivables", ReceivableViewSet, basename="sales-receivable")
urlpatterns = router.urls
