"""S4 contracts API (/api/v1/sales/contracts/): the same selectors, services and
permissions as the pages. Lines, payment plan and attachments are sub-resources of a
contract; an attachment is uploaded as multipart/form-data (field `file`) and
downloaded through the API, never from a public media URL."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.serializers import (
    FieldRightsMixin,
    IdRelatedField,
    ModelSerializer,
    VersionedUpdateMixin,
)
from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin
from crm.core.lists import REGISTRY
from crm.customers.models import Contact
from crm.customers.selectors import customer_queryset
from crm.products.models import Product
from crm.sales.models import (
    Contract,
    ContractAttachment,
    ContractLine,
    Instalment,
    Opportunity,
    Quote,
)
from crm.sales.models.base import MONEY, PERCENT, QUANTITY
from crm.sales.selectors.contracts import (
    contract_attachment_get,
    contract_attachments,
    contract_instalment_get,
    contract_line_get,
    contract_quote_choices,
)
from crm.sales.services import contracts as services

HEADER_FIELDS = [
    "title",
    "customer",
    "contact",
    "opportunity",
    "signed_on",
    "start_on",
    "end_on",
    "currency",
    "terms",
    "notes",
]


class ContractLineOut(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = ContractLine
        fields = [
            "id",
            "product",
            "product_code",
            "product_name",
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


class ContractInstalmentOut(serializers.ModelSerializer):
    class Meta:
        model = Instalment
        fields = [
            "id",
            "sequence",
            "due_on",
            "amount",
            "received",
            "is_open",
            "note",
        ]


class ContractAttachmentOut(serializers.ModelSerializer):
    uploaded_by_name = serializers.CharField(
        source="uploaded_by.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = ContractAttachment
        fields = [
            "id",
            "name",
            "content_type",
            "size",
            "uploaded_by",
            "uploaded_by_name",
            "created_at",
        ]


class ContractOut(FieldRightsMixin, serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    quote_number = serializers.CharField(
        source="quote.number", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "number",
            "title",
            "customer",
            "customer_name",
            "contact",
            "quote",
            "quote_number",
            "opportunity",
            "status",
            "signed_on",
            "start_on",
            "end_on",
            "currency",
            "amount",
            "tax_amount",
            "total",
            "terms",
            "notes",
            "submitted_at",
            "submitted_by",
            "approved_by",
            "approved_at",
            "decision_note",
            "ended_at",
            "termination_reason",
            "owner",
            "department",
            "version",
            "created_at",
            "updated_at",
        ]


class ContractDetailOut(ContractOut):
    """A contract with its lines and payment plan."""

    lines = ContractLineOut(many=True, read_only=True)
    instalments = serializers.SerializerMethodField()

    class Meta(ContractOut.Meta):
        fields = [*ContractOut.Meta.fields, "lines", "instalments"]

    @extend_schema_field(ContractInstalmentOut(many=True))
    def get_instalments(self, obj):
        return ContractInstalmentOut(
            obj.instalments.order_by("sequence", "due_on", "pk"), many=True
        ).data


class ScopedInput:
    """Foreign keys offer only the records the caller may see."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None or getattr(
            self.context.get("view"), "swagger_fake_view", False
        ):
            return fields
        user = request.user
        customers = customer_queryset(actor=user)
        if "customer" in fields:
            fields["customer"].queryset = customers
        if "contact" in fields:
            fields["contact"].queryset = Contact.objects.filter(
                customer__in=customers.values("pk")
            )
        if "opportunity" in fields:
            fields["opportunity"].queryset = Opportunity.objects.visible_to(user)
        if "product" in fields:
            fields["product"].queryset = Product.objects.visible_to(user)
        if "quote" in fields:
            fields["quote"].queryset = contract_quote_choices(actor=user)
        return fields


class ContractIn(ScopedInput, ModelSerializer):
    class Meta:
        model = Contract
        fields = HEADER_FIELDS


class ContractUpdate(VersionedUpdateMixin, ContractIn):
    class Meta(ContractIn.Meta):
        fields = [*HEADER_FIELDS, "version"]


class ContractFromQuoteIn(ScopedInput, serializers.Serializer):
    quote = IdRelatedField(queryset=Quote.objects.all())
    title = serializers.CharField(max_length=200, required=False)
    signed_on = serializers.DateField(required=False)
    start_on = serializers.DateField(required=False)
    end_on = serializers.DateField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class ContractLineIn(ScopedInput, serializers.Serializer):
    product = IdRelatedField(queryset=Product.objects.all())
    description = serializers.CharField(
        max_length=255, required=False, allow_blank=True
    )
    quantity = serializers.DecimalField(**QUANTITY, required=False)
    unit_price = serializers.DecimalField(
        **MONEY,
        required=False,
        allow_null=True,
        help_text="Empty or null: the product's list price.",
    )
    discount_percent = serializers.DecimalField(**PERCENT, required=False)
    tax_rate = serializers.DecimalField(**PERCENT, required=False)
    sort_order = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False
    )


class ContractLineUpdate(ContractLineIn):
    product = IdRelatedField(queryset=Product.objects.all(), required=False)


class ContractInstalmentIn(serializers.Serializer):
    sequence = serializers.IntegerField(min_value=1, max_value=32767, required=False)
    due_on = serializers.DateField()
    amount = serializers.DecimalField(**MONEY)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class ContractInstalmentUpdate(ContractInstalmentIn):
    due_on = serializers.DateField(required=False)
    amount = serializers.DecimalField(**MONEY, required=False)


class ContractSplitIn(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=services.MAX_INSTALMENTS)
    first_due_on = serializers.DateField()
    interval_months = serializers.IntegerField(min_value=0, max_value=24, default=1)


class ContractApproveIn(serializers.Serializer):
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class ContractRejectIn(serializers.Serializer):
    note = serializers.CharField(max_length=255)


class ContractTerminateIn(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class ContractAttachmentIn(serializers.Serializer):
    file = serializers.FileField(
        help_text="PDF, JPG, PNG, DOCX, XLSX or ZIP; checked by extension and content."
    )


LINE_ID = OpenApiParameter("line_id", int, OpenApiParameter.PATH)
INSTALMENT_ID = OpenApiParameter("instalment_id", int, OpenApiParameter.PATH)
ATTACHMENT_ID = OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)
DETAIL = {200: ContractDetailOut, 409: None}


class ContractViewSet(
    ServiceWriteMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """S4 contracts. Only drafts are changed (header, lines, plan) or deleted; the
    status moves through the actions (submit, withdraw, approve, reject, complete,
    terminate). Out of the caller's data scope: 404."""

    spec = REGISTRY["sales.contract"]
    output_serializer_class = ContractDetailOut
    create_service = services.contract_create
    update_service = services.contract_update
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        qs = super().get_queryset().select_related("customer", "quote")
        if self.action != "list":
            qs = qs.prefetch_related("lines__product")
        return qs

    def get_serializer_class(self):
        return {
            "create": ContractIn,
            "update": ContractUpdate,
            "partial_update": ContractUpdate,
            "list": ContractOut,
        }.get(self.action, ContractDetailOut)

    def _detail(self, contract, status=200):
        contract = self.get_queryset().get(pk=contract.pk)
        return self._out(contract, status)

    @extend_schema(request=ContractIn, responses={201: ContractDetailOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=ContractUpdate, responses=DETAIL)
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=ContractUpdate, responses=DETAIL)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(responses={204: None, 409: None})
    def destroy(self, request, *args, **kwargs):
        services.contract_delete(actor=request.user, contract=self.get_object())
        return Response(status=204)

    @extend_schema(
        request=ContractFromQuoteIn,
        responses={201: ContractDetailOut, 404: None, 409: None},
    )
    @action(detail=False, methods=["post"], url_path="from-quote")
    def from_quote(self, request):
        """A draft contract from an approved, sent or accepted quote (lines copied
        and priced with the contract decimal places)."""
        serializer = ContractFromQuoteIn(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        quote = data.pop("quote")
        contract = services.contract_create_from_quote(
            actor=request.user, quote=quote, data=data
        )
        return self._detail(contract, 201)

    def _transition(self, service, **kwargs):
        contract = service(
            actor=self.request.user, contract=self.get_object(), **kwargs
        )
        return self._detail(contract)

    @extend_schema(request=None, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit a draft for approval; its plan must add up exactly to its total."""
        return self._transition(services.contract_submit)

    @extend_schema(request=None, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Take a contract pending approval back to draft."""
        return self._transition(services.contract_withdraw)

    @extend_schema(request=ContractApproveIn, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve (sales.approve_contract): active, instalments become receivables."""
        serializer = ContractApproveIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._transition(
            services.contract_approve, note=serializer.validated_data.get("note", "")
        )

    @extend_schema(request=ContractRejectIn, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject with a note (sales.approve_contract): back to draft."""
        serializer = ContractRejectIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._transition(
            services.contract_reject, note=serializer.validated_data["note"]
        )

    @extend_schema(request=None, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Complete an active contract whose plan is received in full."""
        return self._transition(services.contract_complete)

    @extend_schema(request=ContractTerminateIn, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        """Terminate an active contract with a reason (sales.approve_contract); what
        is unpaid stops being a receivable."""
        serializer = ContractTerminateIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._transition(
            services.contract_terminate, reason=serializer.validated_data["reason"]
        )

    # Lines

    @extend_schema(request=ContractLineIn, responses={201: ContractLineOut, 409: None})
    @action(detail=True, methods=["post"], url_path="lines")
    def lines(self, request, pk=None):
        """Add a line to a draft."""
        contract = self.get_object()
        serializer = ContractLineIn(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        line = services.contract_line_add(
            actor=request.user, contract=contract, data=dict(serializer.validated_data)
        )
        return Response(ContractLineOut(line).data, status=201)

    @extend_schema(
        methods=["PATCH"],
        parameters=[LINE_ID],
        request=ContractLineUpdate,
        responses={200: ContractLineOut, 409: None},
    )
    @extend_schema(
        methods=["DELETE"], parameters=[LINE_ID], responses={204: None, 409: None}
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"lines/(?P<line_id>[0-9]+)",
    )
    def line(self, request, pk=None, line_id=None):
        """Change or remove a line of a draft."""
        contract = self.get_object()
        line = contract_line_get(actor=request.user, contract=contract, pk=line_id)
        if request.method == "DELETE":
            services.contract_line_remove(actor=request.user, line=line)
            return Response(status=204)
        serializer = ContractLineUpdate(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        line = services.contract_line_update(
            actor=request.user, line=line, data=dict(serializer.validated_data)
        )
        return Response(ContractLineOut(line).data)

    # Payment plan

    @extend_schema(
        request=ContractInstalmentIn, responses={201: ContractInstalmentOut, 409: None}
    )
    @action(detail=True, methods=["post"], url_path="instalments")
    def instalments(self, request, pk=None):
        """Add an instalment to a draft's payment plan."""
        contract = self.get_object()
        serializer = ContractInstalmentIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        instalment = services.contract_instalment_add(
            actor=request.user, contract=contract, data=dict(serializer.validated_data)
        )
        return Response(ContractInstalmentOut(instalment).data, status=201)

    @extend_schema(
        methods=["PATCH"],
        parameters=[INSTALMENT_ID],
        request=ContractInstalmentUpdate,
        responses={200: ContractInstalmentOut, 409: None},
    )
    @extend_schema(
        methods=["DELETE"],
        parameters=[INSTALMENT_ID],
        responses={204: None, 409: None},
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"instalments/(?P<instalment_id>[0-9]+)",
    )
    def instalment(self, request, pk=None, instalment_id=None):
        """Change or remove an instalment of a draft's plan."""
        contract = self.get_object()
        instalment = contract_instalment_get(
            actor=request.user, contract=contract, pk=instalment_id
        )
        if request.method == "DELETE":
            services.contract_instalment_remove(
                actor=request.user, instalment=instalment
            )
            return Response(status=204)
        serializer = ContractInstalmentUpdate(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        instalment = services.contract_instalment_update(
            actor=request.user,
            instalment=instalment,
            data=dict(serializer.validated_data),
        )
        return Response(ContractInstalmentOut(instalment).data)

    @extend_schema(
        request=ContractSplitIn,
        responses={200: ContractInstalmentOut(many=True), 409: None},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="instalments/split",
        filter_backends=[],
        pagination_class=None,
    )
    def split(self, request, pk=None):
        """Replace a draft's plan by N equal instalments; the last takes the rounding
        remainder."""
        contract = self.get_object()
        serializer = ContractSplitIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        instalments = services.contract_plan_split(
            actor=request.user, contract=contract, **serializer.validated_data
        )
        return Response(ContractInstalmentOut(instalments, many=True).data)

    # Attachments

    @extend_schema(
        methods=["GET"], request=None, responses={200: ContractAttachmentOut(many=True)}
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": ContractAttachmentIn},
        responses={201: ContractAttachmentOut, 409: None},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
        filter_backends=[],
        pagination_class=None,
    )
    def attachments(self, request, pk=None):
        """The contract's attachments; POST (multipart, field `file`) attaches one."""
        contract = self.get_object()
        if request.method == "GET":
            return Response(
                ContractAttachmentOut(
                    contract_attachments(contract=contract), many=True
                ).data
            )
        serializer = ContractAttachmentIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = services.contract_attachment_add(
            actor=request.user,
            contract=contract,
            upload=serializer.validated_data["file"],
        )
        return Response(ContractAttachmentOut(attachment).data, status=201)

    @extend_schema(
        parameters=[ATTACHMENT_ID], responses={204: None, 409: None}, request=None
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)",
    )
    def attachment(self, request, pk=None, attachment_id=None):
        """Remove an attachment (its uploader, or sales.change_contract), unless the
        contract is completed."""
        contract = self.get_object()
        attachment = contract_attachment_get(
            actor=request.user, pk=attachment_id, contract=contract
        )
        services.contract_attachment_delete(actor=request.user, attachment=attachment)
        return Response(status=204)

    @extend_schema(
        parameters=[ATTACHMENT_ID],
        request=None,
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)/download",
        filter_backends=[],
    )
    def download(self, request, pk=None, attachment_id=None):
        """The attachment's file, as stored."""
        contract = self.get_object()
        attachment = contract_attachment_get(
            actor=request.user, pk=attachment_id, contract=contract
        )
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.name,
            content_type=attachment.content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


router = SimpleRouter()
router.register("contracts", ContractViewSet, basename="sales-contract")
urlpatterns = router.urls
