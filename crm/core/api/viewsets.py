"""Base API viewset: the list spec's scoped queryset, services for writes, 404 outside the scope."""

from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, viewsets
from rest_framework.response import Response

from crm.core.api.schema import AutoSchema
from crm.core.api.serializers import is_id
from crm.core.errors import Invalid, NotFound
from crm.core.scopes import can


def object_id(value, label: str = "") -> int:
    """The integer id in a URL, or NotFound (404) for anything else: "abc", "-1", 10**30."""
    if is_id(value):
        return int(value)
    raise NotFound(_("%(label)s not found.") % {"label": label or _("Record")})


class ListSpecFilterBackend(DjangoFilterBackend):
    """Filters, search and sort exactly as the UI list does (the same ListSpec).

    An invalid filter value answers 400 with the filter's errors (the UI shows an empty
    list with the errors next to the filter; an API client needs to know).
    """

    def get_filterset_class(self, view, queryset=None):
        return view.spec.filterset_class

    def filter_queryset(self, request, queryset, view):
        if view.action != "list":
            return queryset
        qs, filterset = view.spec.queryset(
            request.user, request.query_params, base=queryset
        )
        if filterset is not None and not filterset.is_valid():
            raise Invalid(
                _("Some filters are invalid."),
                fields={
                    name: [str(message) for message in messages]
                    for name, messages in filterset.errors.items()
                },
            )
        return qs


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
    schema = AutoSchema()

    def get_queryset(self):
        if getattr(
            self, "swagger_fake_view", False
        ):  # schema generation has no real user
            return self.spec.model.objects.none()
        return self.spec.base_queryset(self.request.user)

    def get_object(self):
        label = str(self.spec.model._meta.verbose_name).capitalize()
        pk = object_id(self.kwargs["pk"], label)
        try:
            return self.get_queryset().get(pk=pk)
        except self.spec.model.DoesNotExist:
            raise NotFound(_("%(label)s not found.") % {"label": label}) from None


class ServiceOutputMixin:
    output_serializer_class = None

    def _out(self, obj, status=200):
        serializer = (self.output_serializer_class or self.get_serializer_class())(
            obj, context=self.get_serializer_context()
        )
        return Response(serializer.data, status=status)


class ServiceCreateMixin(ServiceOutputMixin):
    """POST calls the module's create service; the serializer only checks the shape."""

    create_service = None  # callable(*, actor, data) -> obj

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = type(self).create_service(
            actor=request.user, data=dict(serializer.validated_data)
        )
        return self._out(obj, 201)


class ServiceUpdateMixin(ServiceOutputMixin):
    """PUT/PATCH call the module's update service with the version the client read.

    A serializer with a `version` field requires it even for PATCH (400 when missing);
    a stale one is refused by the service (409).
    """

    update_service = None  # callable(*, actor, obj, data, version) -> obj

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = self.get_serializer(
            obj, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        if version is None and "version" in serializer.fields:
            raise Invalid(
                _("The record version is missing."),
                fields={"version": [_("This field is required.")]},
            )
        obj = type(self).update_service(
            actor=request.user, obj=obj, data=data, version=version
        )
        return self._out(obj)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


class ServiceDeleteMixin:
    """DELETE calls the module's delete service (only where records may be deleted)."""

    delete_service = None  # callable(*, actor, obj) -> None

    def destroy(self, request, *args, **kwargs):
        type(self).delete_service(actor=request.user, obj=self.get_object())
        return Response(status=204)


class ServiceWriteMixin(ServiceCreateMixin, ServiceUpdateMixin):
    """create/update call the module's services. No DELETE: business records are
    deactivated; add ServiceDeleteMixin where a real delete exists."""
