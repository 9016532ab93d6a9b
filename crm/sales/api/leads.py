"""S1 lead API (X2): the same selectors, services and permissions as the pages.

Leads list with a cursor and the list page's filters and search (`q`); create, update
(with the version read), follow-ups, assignment by hand and by rule, conversion, and the
customers a lead may already be.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.pagination import IdCursorPagination
from crm.core.api.serializers import (
    FieldRightsMixin,
    ModelSerializer,
    VersionedUpdateMixin,
)
from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin
from crm.core.lists import REGISTRY
from crm.customers.api.serializers import CustomerOut, DuplicatesOut
from crm.customers.models import Contact, Customer
from crm.customers.selectors import contact_queryset, customer_queryset
from crm.org.models import User
from crm.sales.models import Lead, LeadFollowUp
from crm.sales.selectors.leads import lead_customer_candidates, lead_follow_ups
from crm.sales.services import leads as services

LEAD_INPUT = list(services.INPUT_FIELDS)


class LeadOut(FieldRightsMixin, ModelSerializer):
    """A lead; fields hidden from the caller's roles are left out (Y5)."""

    owner_name = serializers.CharField(
        source="owner.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "number",
            *LEAD_INPUT,
            "status",
            "disqualify_reason",
            "owner",
            "owner_name",
            "department",
            "assigned_at",
            "submitted_ip",
            "customer",
            "contact",
            "opportunity",
            "converted_at",
            "converted_by",
            "version",
            "created_at",
            "updated_at",
        ]


class LeadIn(FieldRightsMixin, ModelSerializer):
    """A new lead; `owner` (someone else than the caller) needs sales.assign_lead."""

    class Meta:
        model = Lead
        fields = [*LEAD_INPUT, "owner"]
        extra_kwargs = {"owner": {"queryset": User.objects.filter(is_active=True)}}


class LeadUpdate(VersionedUpdateMixin, FieldRightsMixin, ModelSerializer):
    """An edit of an open lead, its status included (not "converted": convert it)."""

    class Meta:
        model = Lead
        fields = [*services.UPDATE_FIELDS, "version"]
        extra_kwargs = {"name": {"required": False}}


class LeadFollowUpOut(serializers.ModelSerializer):
    recorded_by_name = serializers.CharField(
        source="recorded_by.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = LeadFollowUp
        fields = [
            "id",
            "lead",
            "kind",
            "occurred_at",
            "content",
            "next_follow_up_on",
            "recorded_by",
            "recorded_by_name",
            "created_at",
        ]


class LeadFollowUpIn(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=services.FOLLOW_UP_KINDS.choices, default="call"
    )
    occurred_at = serializers.DateTimeField(
        required=False, help_text="Default: now. Not in the future."
    )
    content = serializers.CharField(max_length=10000)
    next_follow_up_on = serializers.DateField(required=False, allow_null=True)


class LeadAssignIn(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        help_text="An active employee.",
    )


class ScopedIdField(serializers.PrimaryKeyRelatedField):
    """A customer or contact the caller may see, by id (others: "does not exist")."""

    def __init__(self, scoped, **kwargs):
        self.scoped = scoped
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return super().get_queryset()
        return self.scoped(actor=request.user)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not str(data).isdigit() or not 0 < int(data) <= 2**63 - 1:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(int(data))


class LeadConvertOpportunityIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    amount = serializers.DecimalField(
        max_digits=20, decimal_places=6, min_value=0, required=False
    )
    expected_close_on = serializers.DateField(required=False, allow_null=True)


class LeadConvertIn(serializers.Serializer):
    """Link the lead to `customer` (one the caller sees) or create a new customer
    (`customer_name`, default the lead's company; `customer_credit_code`); use `contact`
    (one of that customer's) or create one from the lead (`create_contact`); create an
    opportunity when `opportunity` is given."""

    customer = ScopedIdField(
        customer_queryset,
        queryset=Customer.objects.none(),
        required=False,
        allow_null=True,
    )
    customer_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True
    )
    customer_credit_code = serializers.CharField(
        max_length=18, required=False, allow_blank=True
    )
    contact = ScopedIdField(
        contact_queryset,
        queryset=Contact.objects.none(),
        required=False,
        allow_null=True,
    )
    create_contact = serializers.BooleanField(default=True)
    opportunity = LeadConvertOpportunityIn(required=False, allow_null=True)

    def validate(self, data):
        if data.get("contact") is not None and data.get("customer") is None:
            raise serializers.ValidationError(
                {"contact": ["A new customer has no contacts to choose from."]}
            )
        return data


class LeadViewSet(
    ServiceWriteMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """S1 leads. No DELETE: a lead is disqualified, not deleted."""

    spec = REGISTRY["sales.lead"]
    pagination_class = IdCursorPagination
    output_serializer_class = LeadOut
    create_service = services.lead_create
    update_service = services.lead_update

    def get_serializer_class(self):
        return {
            "create": LeadIn,
            "update": LeadUpdate,
            "partial_update": LeadUpdate,
        }.get(self.action, LeadOut)

    @extend_schema(request=LeadIn, responses={201: LeadOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=LeadUpdate, responses={200: LeadOut})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=LeadUpdate, responses={200: LeadOut})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(
        methods=["GET"], request=None, responses={200: LeadFollowUpOut(many=True)}
    )
    @extend_schema(
        methods=["POST"],
        request=LeadFollowUpIn,
        responses={201: LeadFollowUpOut, 409: None},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="follow-ups",
        filter_backends=[],
        pagination_class=None,
    )
    def follow_ups(self, request, pk=None):
        """A lead's follow-ups, newest first; POST records one (the lead's next
        follow-up date follows; a new lead becomes contacted). 409: converted lead."""
        lead = self.get_object()
        if request.method == "GET":
            rows = lead_follow_ups(actor=request.user, lead=lead)
            return Response(LeadFollowUpOut(rows, many=True).data)
        serializer = LeadFollowUpIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        follow_up = services.lead_follow_up_create(
            actor=request.user, lead=lead, data=dict(serializer.validated_data)
        )
        return Response(LeadFollowUpOut(follow_up).data, status=201)

    @extend_schema(request=LeadAssignIn, responses={200: LeadOut, 409: None})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give the lead to an active employee (sales.assign_lead); they are notified."""
        lead = self.get_object()
        serializer = LeadAssignIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_assign(
            actor=request.user, lead=lead, owner=serializer.validated_data["owner"]
        )
        return self._out(lead)

    @extend_schema(request=None, responses={200: LeadOut, 400: None, 409: None})
    @action(detail=True, methods=["post"], url_path="assign-by-rule")
    def assign_by_rule(self, request, pk=None):
        """Give the lead to whoever is next under the assignment rule for its source
        (sales.assign_lead). 400 when no rule gives it to anyone."""
        lead = services.lead_assign_by_rule(actor=request.user, lead=self.get_object())
        return self._out(lead)

    @extend_schema(request=LeadConvertIn, responses={200: LeadOut, 409: None})
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        """Convert the lead, in one transaction, into customer + contact (+ opportunity).
        409 when it was converted already or is disqualified."""
        lead = self.get_object()
        serializer = LeadConvertIn(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lead = services.lead_convert(
            actor=request.user,
            lead=lead,
            customer=data.get("customer"),
            new_customer={
                "name": data.get("customer_name", ""),
                "credit_code": data.get("customer_credit_code", ""),
            },
            contact=data.get("contact"),
            create_contact=data["create_contact"],
            opportunity=data.get("opportunity"),
        )
        return self._out(lead)

    @extend_schema(request=None, responses={200: DuplicatesOut})
    @action(
        detail=True,
        methods=["get"],
        url_path="customer-candidates",
        filter_backends=[],
        pagination_class=None,
    )
    def customer_candidates(self, request, pk=None):
        """Customers this lead may already be (same name, credit code or phone), to
        link to when converting; and how many more exist outside the caller's scope."""
        lead = self.get_object()
        candidates, hidden = lead_customer_candidates(actor=request.user, lead=lead)
        context = self.get_serializer_context()
        return Response(
            {
                "candidates": [
                    {
                        "customer": CustomerOut(c["customer"], context=context).data,
                        "reasons": [str(r) for r in c["reasons"]],
                    }
                    for c in candidates
                ],
                "outside_scope": hidden,
            }
        )


router = SimpleRouter()
router.register("leads", LeadViewSet, basename="lead")
urlpatterns = router.urls
