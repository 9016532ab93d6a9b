"""Customer API (C1–C3, X2): the same selectors, services and permissions as the UI.

Lists page with a cursor (constant cost on any page of millions of rows) and take the
same filters and search (`q`) as the list pages.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.core.api.pagination import IdCursorPagination
from crm.core.api.viewsets import (
    ScopedViewSet,
    ServiceDeleteMixin,
    ServiceWriteMixin,
)
from crm.core.errors import Invalid
from crm.core.lists import REGISTRY
from crm.customers import services
from crm.customers.api.serializers import (
    ContactIn,
    ContactOut,
    ContactUpdate,
    CustomerCopyIn,
    CustomerIn,
    CustomerMergeIn,
    CustomerOut,
    CustomerUpdate,
    DuplicatesOut,
)
from crm.customers.selectors import customers_get, duplicate_candidates


class CustomerViewSet(
    ServiceWriteMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """C1 customers. DELETE moves a customer to the recycle bin (needs the delete
    permissions; refused while it has business documents or live subsidiaries)."""

    spec = REGISTRY["customers.customer"]
    pagination_class = IdCursorPagination
    output_serializer_class = CustomerOut
    create_service = services.customer_create
    update_service = services.customer_update

    def get_serializer_class(self):
        return {
            "create": CustomerIn,
            "update": CustomerUpdate,
            "partial_update": CustomerUpdate,
            "copy": CustomerCopyIn,
            "merge": CustomerMergeIn,
        }.get(self.action, CustomerOut)

    @extend_schema(request=CustomerIn, responses={201: CustomerOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=CustomerUpdate, responses={200: CustomerOut})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=CustomerUpdate, responses={200: CustomerOut})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(responses={204: None, 409: None})
    def destroy(self, request, *args, **kwargs):
        services.customer_delete(actor=request.user, customer=self.get_object())
        return Response(status=204)

    @extend_schema(request=CustomerCopyIn, responses={201: CustomerOut})
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        """A copy of the customer under a new number (without its credit code)."""
        customer = self.get_object()
        serializer = CustomerCopyIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        copy = services.customer_copy(
            actor=request.user,
            customer=customer,
            name=serializer.validated_data.get("name", ""),
        )
        return self._out(copy, 201)

    @extend_schema(request=CustomerMergeIn, responses={200: CustomerOut, 409: None})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """C3: merge other customers into this one; every record pointing at them moves
        here; they stay as tombstones. Needs core.merge_records."""
        survivor = self.get_object()
        serializer = CustomerMergeIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        merged = customers_get(actor=request.user, pks=data["merged"])
        survivor = services.customer_merge(
            actor=request.user,
            survivor=survivor,
            merged=merged,
            choices=data.get("fields") or {},
            versions=data.get("versions") or {},
        )
        return self._out(survivor)

    @extend_schema(
        parameters=[
            OpenApiParameter("name", OpenApiTypes.STR, description="Customer name"),
            OpenApiParameter(
                "credit_code", OpenApiTypes.STR, description="Credit code"
            ),
            OpenApiParameter(
                "phone", OpenApiTypes.STR, many=True, description="Phone numbers"
            ),
        ],
        responses={200: DuplicatesOut},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def duplicates(self, request):
        """Possible duplicates of a customer about to be created (same credit code, same
        or similar name, same phone)."""
        params = request.query_params
        bad = {
            name: [_("Null characters are not allowed.")]
            for name, values in params.lists()
            if any("\x00" in v for v in values)
        }
        if bad:
            raise Invalid(_("Some fields are invalid."), fields=bad)
        candidates, hidden = duplicate_candidates(
            actor=request.user,
            name=params.get("name", "")[:200],
            credit_code=params.get("credit_code", "")[:18],
            phones=[p[:32] for p in params.getlist("phone")[:5]],
        )
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


class ContactViewSet(
    ServiceWriteMixin,
    ServiceDeleteMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """C2 contacts, seen by whoever sees their customer; one per customer is primary."""

    spec = REGISTRY["customers.contact"]
    pagination_class = IdCursorPagination
    output_serializer_class = ContactOut
    create_service = services.contact_create
    update_service = services.contact_update
    delete_service = services.contact_delete

    def get_serializer_class(self):
        return {
            "create": ContactIn,
            "update": ContactUpdate,
            "partial_update": ContactUpdate,
        }.get(self.action, ContactOut)

    @extend_schema(request=ContactIn, responses={201: ContactOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=ContactUpdate, responses={200: ContactOut})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=ContactUpdate, responses={200: ContactOut})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        return ServiceDeleteMixin.destroy(self, request, *args, **kwargs)

    @extend_schema(request=None, responses={200: ContactOut})
    @action(detail=True, methods=["post"])
    def primary(self, request, pk=None):
        """Make this contact its customer's primary contact."""
        contact = services.contact_set_primary(
            actor=request.user, contact=self.get_object()
        )
        return self._out(contact)
