"""Base API viewset: the list spec's scoped queryset, services for writes, 404 outside the scope."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, viewsets
from rest_framework.response import Response

from crm.core.errors import NotFound
from crm.core.scopes import can


class ListSpecFilterBackend(DjangoFilterBackend):
    """Filters, search and sort exactly as the UI list does (the same ListSpec)."""

    def get_filterset_class(self, view, queryset=None):
        return view.spec.filterset_class

    def filter_queryset(self, request, queryset, view):
        if view.action != "list":
            return queryset
        return view.spec.queryset(request.user, request.query_params)[0]


class SpecViewPermission(permissions.IsAuthenticated):
    """Reading needs the list's view permission, as in the UI; writes are checked by services."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and can(
            request.user, view.spec.view_perm
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Search text"),
            OpenApiParameter(
                "sort",
                OpenApiTypes.STR,
                description="Column to sort by; '-' for descending",
            ),
        ]
    )
)
class ScopedViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Read endpoints over a ListSpec. Subclasses add create/update through services."""

    spec = None
    filter_backends = [ListSpecFilterBackend]
    permission_classes = [SpecViewPermission]

    def get_queryset(self):
        if getattr(
            self, "swagger_fake_view", False
        ):  # schema generation has no real user
            return self.spec.model.objects.none()
        return self.spec.base_queryset(self.request.user)

    def get_object(self):
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])
        except (self.spec.model.DoesNotExist, ValueError, TypeError):
            raise NotFound(f"{self.spec.model._meta.verbose_name} not found.") from None


class ServiceWriteMixin:
    """create/update/destroy call the module's services; serializers only check the shape."""

    create_service = None  # callable(*, actor, data) -> obj
    update_service = None  # callable(*, actor, obj, data, version) -> obj
    delete_service = None  # callable(*, actor, obj) -> None
    output_serializer_class = None

    def _out(self, obj, status=200):
        serializer = (self.output_serializer_class or self.get_serializer_class())(
            obj, context=self.get_serializer_context()
        )
        return Response(serializer.data, status=status)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = type(self).create_service(
            actor=request.user, data=dict(serializer.validated_data)
        )
        return self._out(obj, 201)

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = self.get_serializer(
            obj, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        obj = type(self).update_service(
            actor=request.user, obj=obj, data=data, version=version
        )
        return self._out(obj)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        type(self).delete_service(actor=request.user, obj=self.get_object())
        return Response(status=204)
