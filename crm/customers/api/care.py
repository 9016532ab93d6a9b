"""API for activities (C6), the public pool (C8) and the customer analysis (C7), under
/api/v1/customers/: the same selectors, services and permissions as the pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.core.api.pagination import IdCursorPagination
from crm.core.api.schema import AutoSchema
from crm.core.api.serializers import (
    FieldRightsMixin,
    IdRelatedField,
    ModelSerializer,
    VersionedUpdateMixin,
)
from crm.core.api.viewsets import (
    ScopedViewSet,
    ServiceDeleteMixin,
    ServiceWriteMixin,
)
from crm.core.lists import REGISTRY
from crm.core.scopes import authorize
from crm.customers import activities, pool
from crm.customers.analysis import customer_analysis
from crm.customers.api.serializers import CustomerOut
from crm.customers.models import Activity, Customer
from crm.customers.selectors import contact_queryset, customer_get, customer_queryset
from crm.org.models import User

ACTIVITY_INPUT = [
    "customer",
    "contact",
    "kind",
    "occurred_at",
    "content",
    "next_follow_up_on",
]


class ActivityOut(ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact_name = serializers.CharField(
        source="contact.name", read_only=True, allow_null=True
    )
    recorded_by_name = serializers.CharField(
        source="recorded_by.name", read_only=True, allow_null=True
    )

    class Meta:
        model = Activity
        fields = [
            "id",
            "customer",
            "customer_name",
            "contact",
            "contact_name",
            "kind",
            "occurred_at",
            "content",
            "next_follow_up_on",
            "recorded_by",
            "recorded_by_name",
            "version",
            "created_at",
            "updated_at",
        ]


class ActivityIn(ModelSerializer):
    """Customers and contacts offered are those the caller may see."""

    class Meta:
        model = Activity
        fields = ACTIVITY_INPUT

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None or getattr(
            self.context.get("view"), "swagger_fake_view", False
        ):
            return fields
        if "customer" in fields:
            fields["customer"].queryset = customer_queryset(actor=request.user)
        if "contact" in fields:
            fields["contact"].queryset = contact_queryset(actor=request.user)
        return fields


class ActivityUpdate(VersionedUpdateMixin, ActivityIn):
    """An activity stays with its customer."""

    class Meta(ActivityIn.Meta):
        fields = [*ACTIVITY_INPUT[1:], "version"]


class ActivityViewSet(
    ServiceWriteMixin,
    ServiceDeleteMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """C6 follow-up activities, seen by whoever sees their customer. Filters as the list
    page: customer (id or number), kind, recorded_by, occurred_from/_to, next_from/_to."""

    spec = REGISTRY["customers.activity"]
    pagination_class = IdCursorPagination
    output_serializer_class = ActivityOut
    create_service = activities.activity_create
    update_service = activities.activity_update
    delete_service = activities.activity_delete

    def get_queryset(self):
        return (
            super().get_queryset().select_related("customer", "contact", "recorded_by")
        )

    def get_serializer_class(self):
        return {
            "create": ActivityIn,
            "update": ActivityUpdate,
            "partial_update": ActivityUpdate,
        }.get(self.action, ActivityOut)

    @extend_schema(request=ActivityIn, responses={201: ActivityOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=ActivityUpdate, responses={200: ActivityOut})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=ActivityUpdate, responses={200: ActivityOut})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        return ServiceDeleteMixin.destroy(self, request, *args, **kwargs)


# Public pool


class PoolCustomerOut(FieldRightsMixin, ModelSerializer):
    region_name = serializers.CharField(
        source="region.full_name", read_only=True, allow_null=True
    )
    department_name = serializers.CharField(
        source="department.name", read_only=True, allow_null=True
    )
    pooled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    former_owner_name = serializers.CharField(read_only=True, allow_null=True)
    last_follow_up = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "number",
            "name",
            "level",
            "type",
            "status",
            "industry",
            "region",
            "region_name",
            "department",
            "department_name",
            "pooled_at",
            "former_owner_name",
            "last_follow_up",
        ]


class AssignIn(serializers.Serializer):
    owner = IdRelatedField(queryset=User.objects.filter(is_active=True))


class ReleaseIn(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class PoolViewSet(ScopedViewSet):
    """C8 public pool: the customers the caller may claim (their department tree);
    claim (within the limits) and assign (managers)."""

    spec = REGISTRY["customers.pool"]
    serializer_class = PoolCustomerOut

    def get_serializer_class(self):
        return {"assign": AssignIn, "release": ReleaseIn}.get(
            self.action, PoolCustomerOut
        )

    @extend_schema(request=None, responses={200: CustomerOut, 409: None})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Take this customer; refused (409) past the caller's limits or once gone."""
        customer = pool.pool_claim(actor=request.user, customer=self.get_object())
        return Response(CustomerOut(customer, context={"request": request}).data)

    @extend_schema(request=AssignIn, responses={200: CustomerOut, 409: None})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give this customer to an employee (customers.assign_customer)."""
        authorize(request.user, "customers.assign_customer")
        customer = self.get_object()
        serializer = AssignIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = pool.pool_assign(
            actor=request.user,
            customer=customer,
            owner=serializer.validated_data["owner"],
        )
        return Response(CustomerOut(customer, context={"request": request}).data)

    @extend_schema(request=ReleaseIn, responses={204: None, 404: None, 409: None})
    @action(detail=False, methods=["post"])
    def release(self, request):
        """Give one of your customers back to the pool."""
        serializer = ReleaseIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_get(
            actor=request.user, pk=serializer.validated_data["customer"]
        )
        pool.pool_release(actor=request.user, customer=customer)
        return Response(status=204)


# Analysis


class CountOut(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    value = serializers.IntegerField()


class AbcClassOut(serializers.Serializer):
    customers = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=30, decimal_places=2)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return {"class": instance["class"], **data}


class AbcOut(serializers.Serializer):
    measure = serializers.CharField()
    label = serializers.CharField()
    note = serializers.CharField()
    total = serializers.DecimalField(max_digits=30, decimal_places=2)
    classes = AbcClassOut(many=True)


class AnalysisOut(serializers.Serializer):
    total = serializers.IntegerField()
    by_level = CountOut(many=True)
    by_industry = CountOut(many=True)
    by_type = CountOut(many=True)
    by_status = CountOut(many=True)
    by_province = CountOut(many=True)
    new_per_month = CountOut(many=True)
    abc = AbcOut(allow_null=True)
    rfm = serializers.DictField(
        allow_null=True, help_text="RFM segments; null until sales data exists."
    )


class AnalysisView(APIView):
    """C7: the numbers of the customer analysis page, within the caller's data scope."""

    permission_classes = [IsAuthenticated]
    schema = AutoSchema()

    @extend_schema(responses={200: AnalysisOut}, summary="Customer analysis")
    def get(self, request):
        authorize(request.user, "customers.view_customer")
        return Response(customer_analysis(actor=request.user))
