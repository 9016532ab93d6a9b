from rest_framework import serializers

from crm.core.api.serializers import FieldRightsMixin, ModelSerializer
from crm.org.models import Department, User


class DepartmentOut(ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "kind", "code", "parent", "path", "depth", "is_active"]


class DepartmentIn(ModelSerializer):
    class Meta:
        model = Department
        fields = ["name", "kind", "code", "parent", "phone", "sort_order"]


class EmployeeOut(FieldRightsMixin, ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "employee_no",
            "department",
            "supervisor",
            "position",
            "mobile",
            "phone",
            "email",
            "is_active",
            "roles",
        ]

    def get_roles(self, obj) -> list[str]:
        return [g.name for g in obj.groups.all()]


class EmployeeIn(FieldRightsMixin, ModelSerializer):
    password = serializers.CharField(write_only=True, required=False, max_length=128)

    class Meta:
        model = User
        fields = [
            "username",
            "name",
            "employee_no",
            "department",
            "supervisor",
            "position",
            "mobile",
            "phone",
            "email",
            "password",
        ]
