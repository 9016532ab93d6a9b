from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.response import Response

from crm.core.api.schema import AutoSchema
from crm.core.api.viewsets import ScopedViewSet, ServiceCreateMixin, object_id
from crm.core.lists import REGISTRY
from crm.org import services
from crm.org.api.serializers import DepartmentIn, DepartmentOut, EmployeeIn, EmployeeOut
from crm.org.models import Department
from crm.org.selectors import department_get, department_tree_list


class DepartmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Y3: the organisation tree (readable by every employee), created and changed via services."""

    serializer_class = DepartmentOut
    queryset = (
        Department.objects.none()
    )  # for the schema; get_queryset reads through the selector
    pagination_class = None
    filter_backends: list = []
    schema = AutoSchema()

    def get_queryset(self):
        return department_tree_list(actor=self.request.user)

    def get_object(self):
        pk = object_id(self.kwargs["pk"], _("Department"))
        return department_get(actor=self.request.user, pk=pk)

    @extend_schema(request=DepartmentIn, responses={201: DepartmentOut})
    def create(self, request):
        serializer = DepartmentIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        dept = services.department_create(
            actor=request.user, data=dict(serializer.validated_data)
        )
        return Response(DepartmentOut(dept).data, status=201)

    @extend_schema(request=DepartmentIn, responses={200: DepartmentOut})
    def partial_update(self, request, pk=None):
        dept = self.get_object()
        serializer = DepartmentIn(dept, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        dept = services.department_update(
            actor=request.user, obj=dept, data=dict(serializer.validated_data)
        )
        return Response(DepartmentOut(dept).data)


class EmployeeViewSet(ServiceCreateMixin, mixins.CreateModelMixin, ScopedViewSet):
    """Y4: employees within the caller's organisation data scope."""

    spec = REGISTRY["org.employee"]
    output_serializer_class = EmployeeOut
    create_service = services.employee_create
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_class(self):
        return EmployeeIn if self.action == "create" else EmployeeOut

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("department")
            .prefetch_related("groups")
        )

    @extend_schema(request=EmployeeIn, responses={201: EmployeeOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)
