"""Partner portal API of D1/D3: who am I (user + partner), and the partner's own users
for partner admins. Every read is by the caller's partner: another partner's ids are 404."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from crm.channels.api.partners import PartnerUserIn, PartnerUserOut
from crm.channels.models import Partner, PartnerUser
from crm.channels.portal.access import IsPartnerUser, PortalAPIMixin, membership
from crm.channels.selectors import partners as selectors
from crm.channels.services import partners as services
from crm.core.api.schema import AutoSchema
from crm.core.api.viewsets import object_id


class PortalPartnerOut(serializers.ModelSerializer):
    tier_name = serializers.CharField(
        source="tier.name", read_only=True, allow_null=True, default=None
    )
    region_name = serializers.CharField(
        source="region.full_name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Partner
        fields = [
            "id",
            "number",
            "name",
            "short_name",
            "kind",
            "status",
            "tier_name",
            "region",
            "region_name",
            "credit_limit",
            "contact_name",
            "phone",
            "email",
            "address",
        ]


class PortalMeOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    is_partner_admin = serializers.BooleanField()
    partner = PortalPartnerOut()


class PortalMe(PortalAPIMixin, APIView):
    """The logged-in partner user and their partner."""

    schema = AutoSchema()

    @extend_schema(responses={200: PortalMeOut})
    def get(self, request):
        member = membership(request.user)
        return Response(
            PortalMeOut(
                {
                    "id": request.user.pk,
                    "username": request.user.username,
                    "name": request.user.name,
                    "email": request.user.email,
                    "is_partner_admin": member.is_admin,
                    "partner": member.partner,
                }
            ).data
        )


class IsPartnerAdmin(IsPartnerUser):
    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return membership(request.user).is_admin


class PasswordIn(serializers.Serializer):
    password = serializers.CharField(max_length=128, write_only=True)


class AdminIn(serializers.Serializer):
    is_admin = serializers.BooleanField()


class PortalUserViewSet(PortalAPIMixin, viewsets.GenericViewSet):
    """A partner admin's own partner's users: list, read, create, deactivate, activate,
    reset password, grant or take administrator rights. Another partner's ids: 404."""

    permission_classes = [IsPartnerAdmin]
    serializer_class = PartnerUserOut
    pagination_class = None
    schema = AutoSchema()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PartnerUser.objects.none()
        return selectors.partner_members(partner=self.partner)

    def get_object(self):
        return selectors.member_get(
            partner=self.partner, pk=object_id(self.kwargs["pk"], _("User"))
        )

    @extend_schema(responses={200: PartnerUserOut(many=True)})
    def list(self, request):
        return Response(PartnerUserOut(self.get_queryset(), many=True).data)

    @extend_schema(responses={200: PartnerUserOut})
    def retrieve(self, request, pk=None):
        return Response(PartnerUserOut(self.get_object()).data)

    @extend_schema(request=PartnerUserIn, responses={201: PartnerUserOut})
    def create(self, request):
        serializer = PartnerUserIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.partner_user_create(
            actor=request.user,
            partner=self.partner,
            data=dict(serializer.validated_data),
        )
        return Response(PartnerUserOut(member).data, status=201)

    @extend_schema(request=None, responses={200: PartnerUserOut})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """The login stops working at once; not your own (400)."""
        member = services.partner_user_deactivate(
            actor=request.user, member=self.get_object()
        )
        return Response(PartnerUserOut(member).data)

    @extend_schema(request=None, responses={200: PartnerUserOut})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        member = services.partner_user_activate(
            actor=request.user, member=self.get_object()
        )
        return Response(PartnerUserOut(member).data)

    @extend_schema(request=PasswordIn, responses={200: PartnerUserOut})
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request, pk=None):
        member = self.get_object()
        serializer = PasswordIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.partner_user_reset_password(
            actor=request.user,
            member=member,
            password=serializer.validated_data["password"],
        )
        return Response(PartnerUserOut(member).data)

    @extend_schema(request=AdminIn, responses={200: PartnerUserOut})
    @action(detail=True, methods=["post"], url_path="set-admin")
    def set_admin(self, request, pk=None):
        """Grant or take away administrator rights (not your own)."""
        member = self.get_object()
        serializer = AdminIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.partner_user_set_admin(
            actor=request.user,
            member=member,
            is_admin=serializer.validated_data["is_admin"],
        )
        return Response(PartnerUserOut(member).data)


router = SimpleRouter()
router.register("users", PortalUserViewSet, basename="portal-user")
urlpatterns = router.urls
