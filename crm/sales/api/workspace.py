"""S10 workspace API (/api/v1/sales/workspace/): the home page's "my work" panels and
shortcuts as JSON, for the mobile client — the same registered panels, computed by the
same functions, within the caller's permissions and data scope.

Errors: 401 without valid credentials; 403 is documented as for every endpoint but a
signed-in user always gets the panels their roles allow (possibly only the news).
"""

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.core.api.schema import AutoSchema
from crm.core.home import home_panels, shortcuts_for


def money(**kwargs):
    return serializers.DecimalField(
        max_digits=30, decimal_places=6, allow_null=True, **kwargs
    )


@extend_schema_field(
    {"type": "string", "nullable": True, "description": "YYYY-MM-DD or ISO 8601 time"}
)
class DateOrTimeField(serializers.Field):
    """A due date (follow-ups, instalments) or a moment (news, approval requests)."""

    def to_representation(self, value):
        if hasattr(value, "tzinfo"):
            return serializers.DateTimeField().to_representation(value)
        return serializers.DateField().to_representation(value)


class ItemOut(serializers.Serializer):
    kind = serializers.CharField(
        help_text="announcement, activity, lead, instalment, quote, contract, "
        "opportunity…"
    )
    id = serializers.IntegerField()
    title = serializers.CharField()
    subtitle = serializers.CharField(default="")
    url = serializers.CharField(default="", help_text="The record's web page.")
    date = DateOrTimeField(default=None)
    amount = money(default=None)
    status = serializers.CharField(default="")
    status_label = serializers.CharField(default="")
    overdue = serializers.BooleanField(default=False)


class PanelOut(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    icon = serializers.CharField()
    count = serializers.IntegerField(
        allow_null=True, help_text="How many items in all; null when not counted."
    )
    total = money(help_text="A money sum over all the items, where it means something.")
    more_url = serializers.CharField(help_text="The page listing all of them.")
    empty = serializers.CharField(help_text="What to say when there is nothing.")
    items = ItemOut(many=True)


class ShortcutOut(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    url = serializers.CharField()
    icon = serializers.CharField()
    searchable = serializers.BooleanField(help_text="The page accepts ?q=.")


class WorkspaceOut(serializers.Serializer):
    panels = PanelOut(many=True)
    shortcuts = ShortcutOut(many=True)


class WorkspaceView(APIView):
    """My work: follow-ups, instalments due, approvals, opportunities, company news."""

    permission_classes = [IsAuthenticated]
    schema = AutoSchema()

    @extend_schema(
        responses={200: WorkspaceOut},
        summary="My work (the home page's panels)",
        parameters=[],
    )
    def get(self, request):
        data = {
            "panels": home_panels(request.user),
            "shortcuts": shortcuts_for(request.user),
        }
        return Response(WorkspaceOut(data).data)


urlpatterns = [path("workspace/", WorkspaceView.as_view(), name="sales-workspace")]
