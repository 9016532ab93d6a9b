from rest_framework import serializers

from crm.core.fieldrights import field_rights

# Primary keys are positive 64-bit integers (BigAutoField).
MAX_ID = 2**63 - 1


def is_id(value) -> bool:
    """Whether `value` (an int, a URL part, a query value) can be the id of a row."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return False
    text = str(value)
    return text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key by id that refuses non-ids before asking the database.

    DRF's PrimaryKeyRelatedField sends any integer to the database: SQLite overflows on
    10**20 and PostgreSQL refuses it for a related lookup, both as a 500.
    """

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not is_id(data):
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(int(data))


class ModelSerializer(serializers.ModelSerializer):
    """The project's ModelSerializer: foreign keys are IdRelatedFields."""

    serializer_related_field = IdRelatedField


class FieldRightsMixin:
    """Drops the fields a user may not see and makes read-only those they may not edit (Y5).

    The OpenAPI schema is the same for every caller: while it is generated (the view is a
    "fake view") every field is kept. Fields that field rights may hide are optional in it.
    """

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        model = getattr(getattr(self, "Meta", None), "model", None)
        if request is None or model is None:
            return fields
        if getattr(self.context.get("view"), "swagger_fake_view", False):
            return fields
        rights = field_rights(request.user, model)
        for name in rights.hidden:
            fields.pop(name, None)
        for name in rights.readonly:
            if name in fields:
                fields[name].read_only = True
        return fields


class VersionedUpdateMixin(serializers.Serializer):
    """An update must carry the version it was based on; a stale one is refused with 409."""

    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
