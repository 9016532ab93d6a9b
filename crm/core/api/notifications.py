"""X4 notifications API, under /api/v1/notifications/: my notifications, mark read.

Only the caller's own notifications exist here: anybody else's id answers 404.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from crm.core.api.schema import AutoSchema
from crm.core.lists import check_query_params
from crm.core.models import Notification
from crm.core.notifications import (
    notification_get,
    notification_list,
    notification_mark_all_read,
    notification_mark_read,
    unread_count,
)


class NotificationOut(serializers.ModelSerializer):
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "url",
            "created_at",
            "read_at",
            "is_read",
        ]
        read_only_fields = fields


class NotificationQuery(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False)


class ReadAllOut(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread.")
    unread = serializers.IntegerField(help_text="Unread notifications left (0).")


@extend_schema_view(
    list=extend_schema(
        summary="My notifications, newest first",
        parameters=[
            OpenApiParameter(
                "unread", OpenApiTypes.BOOL, description="Only the unread ones"
            )
        ],
    ),
    retrieve=extend_schema(summary="One of my notifications"),
)
class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = NotificationOut
    permission_classes = [IsAuthenticated]
    schema = AutoSchema()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        query = NotificationQuery(data=self.request.query_params)
        if self.action == "list":
            check_query_params(self.request.query_params)
            query.is_valid(raise_exception=True)
            unread = query.validated_data["unread"]
        else:
            unread = False
        return notification_list(actor=self.request.user, unread=unread)

    def get_object(self):
        return notification_get(actor=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=None, responses={200: NotificationOut}, summary="Mark read")
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = notification_mark_read(
            actor=request.user, notification=self.get_object()
        )
        return Response(NotificationOut(notification).data)

    @extend_schema(
        request=None, responses={200: ReadAllOut}, summary="Mark all of mine read"
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        marked = notification_mark_all_read(actor=request.user)
        return Response({"marked": marked, "unread": unread_count(request.user)})
