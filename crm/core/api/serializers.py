from rest_framework import serializers

from crm.core.fieldrights import field_rights


class FieldRightsMixin:
    """Drops the fields a user may not see and makes read-only those they may not edit (Y5)."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        model = getattr(getattr(self, "Meta", None), "model", None)
        if request is None or model is None:
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
