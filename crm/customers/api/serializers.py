"""Shapes of the customer API (C1, C2, C3, X2). Input serializers check the shape;
services apply the rules."""

from rest_framework import serializers

from crm.core.api.serializers import (
    MAX_ID,
    FieldRightsMixin,
    ModelSerializer,
    VersionedUpdateMixin,
)
from crm.customers.models import Contact, Customer
from crm.customers.selectors import contact_queryset, customer_queryset
from crm.customers.services import MERGE_FIELDS

# A customer's editable fields are exactly those a merge may take from any customer.
CUSTOMER_INPUT = list(MERGE_FIELDS)
CONTACT_INPUT = [
    "customer",
    "name",
    "gender",
    "age",
    "department_name",
    "position",
    "supervisor",
    "office_phone",
    "mobile",
    "email",
    "home_phone",
    "fax",
    "birthday",
    "hobbies",
    "notes",
    "responsible",
    "is_primary",
]


class ScopedChoicesMixin:
    """Foreign keys to customers and contacts offer only those the caller may see."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None or getattr(
            self.context.get("view"), "swagger_fake_view", False
        ):
            return fields
        user = request.user
        if "parent" in fields and not fields["parent"].read_only:
            fields["parent"].queryset = customer_queryset(actor=user)
        if "customer" in fields and not fields["customer"].read_only:
            fields["customer"].queryset = customer_queryset(actor=user)
        if "supervisor" in fields and not fields["supervisor"].read_only:
            fields["supervisor"].queryset = contact_queryset(actor=user)
        return fields


class CustomerOut(FieldRightsMixin, ModelSerializer):
    """A customer; fields hidden from the caller's roles are left out (Y5)."""

    region_name = serializers.CharField(
        source="region.full_name", read_only=True, allow_null=True
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "number",
            *CUSTOMER_INPUT[:8],
            "region_name",
            *CUSTOMER_INPUT[8:],
            "version",
            "created_at",
            "updated_at",
        ]


class CustomerIn(ScopedChoicesMixin, FieldRightsMixin, ModelSerializer):
    class Meta:
        model = Customer
        fields = CUSTOMER_INPUT
        # Uniqueness of the credit code is the service's rule, answered as a field error.
        validators: list = []


class CustomerUpdate(VersionedUpdateMixin, CustomerIn):
    class Meta(CustomerIn.Meta):
        fields = [*CUSTOMER_INPUT, "version"]


class CustomerCopyIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class CustomerMergeIn(serializers.Serializer):
    """Merge the customers in `merged` into the one in the URL. `fields` names, per field,
    the id of the customer whose value the survivor keeps (default: its own);
    `versions` ({id: version}) refuses the merge if one of them changed meanwhile."""

    merged = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=50,
    )
    fields = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
    )
    versions = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
    )

    def validate_fields(self, value):
        unknown = sorted(set(value) - set(MERGE_FIELDS))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown fields: {', '.join(unknown)}. Choose from: {', '.join(MERGE_FIELDS)}."
            )
        return value

    def validate_versions(self, value):
        result = {}
        for key, version in value.items():
            if not (key.isascii() and key.isdigit() and 0 < int(key) <= MAX_ID):
                raise serializers.ValidationError("Keys are customer ids.")
            result[int(key)] = version
        return result


class DuplicateOut(serializers.Serializer):
    customer = CustomerOut()
    reasons = serializers.ListField(child=serializers.CharField())


class DuplicatesOut(serializers.Serializer):
    candidates = DuplicateOut(many=True)
    outside_scope = serializers.IntegerField(
        help_text="How many more possible duplicates exist outside the caller's scope."
    )


class ContactOut(FieldRightsMixin, ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "customer",
            "customer_name",
            *CONTACT_INPUT[1:],
            "version",
            "created_at",
            "updated_at",
        ]


class ContactIn(ScopedChoicesMixin, FieldRightsMixin, ModelSerializer):
    class Meta:
        model = Contact
        fields = CONTACT_INPUT
        validators: list = []


class ContactUpdate(VersionedUpdateMixin, ContactIn):
    class Meta(ContactIn.Meta):
        fields = [*CONTACT_INPUT, "version"]
        extra_kwargs = {"customer": {"required": False}}
