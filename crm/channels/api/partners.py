"""D1 HQ API: partners (the list page's filters and search; create, versioned update),
their territories (add, end, remove; exclusive ones never overlap another partner's),
their portal users (create, deactivate) and the tiers. Same selectors, services and
permissions as the pages."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.channels.models import Partner, PartnerUser, Territory, Tier
from crm.channels.selectors import partners as selectors
from crm.channels.services import partners as services
from crm.core.api.pagination import IdCursorPagination
from crm.core.api.serializers import (
    FieldRightsMixin,
    IdRelatedField,
    ModelSerializer,
    VersionedUpdateMixin,
)
from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin, object_id
from crm.core.lists import REGISTRY
from crm.customers.models import Region
from crm.org.models import User

PARTNER_INPUT = [f for f in services.PARTNER_FIELDS if f != "owner"]


class TerritoryOut(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.full_name", read_only=True)

    class Meta:
        model = Territory
        fields = [
            "id",
            "partner",
            "region",
            "region_name",
            "exclusive",
            "starts_on",
            "ends_on",
        ]


class TerritoryIn(serializers.Serializer):
    region = IdRelatedField(queryset=Region.objects.all())
    exclusive = serializers.BooleanField(default=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)


class TerritoryEndIn(serializers.Serializer):
    ends_on = serializers.DateField(
        allow_null=True, help_text="The last day; null makes it open-ended."
    )


class PartnerUserOut(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    is_active = serializers.BooleanField(source="user.is_active", read_only=True)
    last_login = serializers.DateTimeField(
        source="user.last_login", read_only=True, allow_null=True
    )

    class Meta:
        model = PartnerUser
        fields = [
            "id",
            "partner",
            "username",
            "name",
            "email",
            "is_admin",
            "is_active",
            "last_login",
            "created_at",
        ]


class PartnerUserIn(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    password = serializers.CharField(max_length=128, write_only=True)
    is_admin = serializers.BooleanField(default=False)


class PartnerOut(FieldRightsMixin, ModelSerializer):
    owner_name = serializers.CharField(
        source="owner.name", read_only=True, allow_null=True, default=None
    )
    tier_name = serializers.CharField(
        source="tier.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Partner
        fields = [
            "id",
            "number",
            *PARTNER_INPUT,
            "regions_served",
            "owner",
            "owner_name",
            "tier_name",
            "department",
            "version",
            "created_at",
            "updated_at",
        ]


class PartnerIn(FieldRightsMixin, ModelSerializer):
    """A new partner; `owner` (the channel manager) defaults to the caller."""

    credit_limit = serializers.DecimalField(
        max_digits=20, decimal_places=6, min_value=0, required=False
    )
    regions_served = serializers.ListField(
        child=IdRelatedField(queryset=Region.objects.all()), required=False
    )

    class Meta:
        model = Partner
        fields = [*PARTNER_INPUT, "regions_served", "owner"]
        extra_kwargs = {
            "owner": {
                "queryset": User.objects.filter(
                    is_active=True, partner_membership__isnull=True
                ),
                "required": False,
            },
            "parent": {"queryset": Partner.objects.all()},
        }


class PartnerUpdate(VersionedUpdateMixin, PartnerIn):
    class Meta(PartnerIn.Meta):
        fields = [*PartnerIn.Meta.fields, "version"]
        extra_kwargs = {**PartnerIn.Meta.extra_kwargs, "name": {"required": False}}


class PartnerViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """D1 channel partners within the caller's scope. No DELETE: a partner is suspended
    or terminated."""

    spec = REGISTRY["channels.partner"]
    pagination_class = IdCursorPagination
    output_serializer_class = PartnerOut
    create_service = services.partner_create
    update_service = services.partner_update

    def get_queryset(self):
        return super().get_queryset().prefetch_related("regions_served")

    def get_serializer_class(self):
        return {
            "create": PartnerIn,
            "update": PartnerUpdate,
            "partial_update": PartnerUpdate,
        }.get(self.action, PartnerOut)

    @extend_schema(request=PartnerIn, responses={201: PartnerOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=PartnerUpdate, responses={200: PartnerOut})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=PartnerUpdate, responses={200: PartnerOut})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(
        methods=["GET"], request=None, responses={200: TerritoryOut(many=True)}
    )
    @extend_schema(
        methods=["POST"], request=TerritoryIn, responses={201: TerritoryOut, 409: None}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        pagination_class=None,
    )
    def territories(self, request, pk=None):
        """The partner's territories; POST adds one (409 when an exclusive one
        overlaps another partner's, the message names it)."""
        partner = self.get_object()
        if request.method == "GET":
            rows = selectors.partner_territories(partner=partner)
            return Response(TerritoryOut(rows, many=True).data)
        serializer = TerritoryIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        territory = services.territory_add(
            actor=request.user, partner=partner, data=dict(serializer.validated_data)
        )
        return Response(TerritoryOut(territory).data, status=201)

    @extend_schema(
        methods=["GET"], request=None, responses={200: PartnerUserOut(many=True)}
    )
    @extend_schema(
        methods=["POST"], request=PartnerUserIn, responses={201: PartnerUserOut}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="users",
        filter_backends=[],
        pagination_class=None,
    )
    def users(self, request, pk=None):
        """The partner's portal users; POST creates one (channels.manage_partnerusers)."""
        partner = self.get_object()
        if request.method == "GET":
            return Response(
                PartnerUserOut(
                    selectors.partner_members(partner=partner), many=True
                ).data
            )
        serializer = PartnerUserIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.partner_user_create(
            actor=request.user, partner=partner, data=dict(serializer.validated_data)
        )
        return Response(PartnerUserOut(member).data, status=201)


class TerritoryViewSet(mixins.DestroyModelMixin, ScopedViewSet):
    """Territories of the partners in the caller's scope: read, end, remove."""

    spec = REGISTRY["channels.partner"]
    filter_backends = []
    pagination_class = None
    serializer_class = TerritoryOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Territory.objects.none()
        return selectors.territory_list(actor=self.request.user)

    def get_object(self):
        return selectors.territory_get(
            actor=self.request.user, pk=object_id(self.kwargs["pk"], _("Territory"))
        )

    @extend_schema(responses={200: TerritoryOut(many=True)})
    def list(self, request, *args, **kwargs):
        return Response(TerritoryOut(self.get_queryset()[:500], many=True).data)

    @extend_schema(request=TerritoryEndIn, responses={200: TerritoryOut, 409: None})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """Set the territory's last day (null: open-ended; 409 when a later end would
        overlap another partner's exclusive territory)."""
        territory = self.get_object()
        serializer = TerritoryEndIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        territory = services.territory_end(
            actor=request.user,
            territory=territory,
            ends_on=serializer.validated_data["ends_on"],
        )
        return Response(TerritoryOut(territory).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        services.territory_remove(actor=request.user, territory=self.get_object())
        return Response(status=204)


class PartnerUserViewSet(ScopedViewSet):
    """Portal users of the partners in the caller's scope; deactivate needs
    channels.manage_partnerusers."""

    spec = REGISTRY["channels.partner"]
    filter_backends = []
    pagination_class = None
    serializer_class = PartnerUserOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PartnerUser.objects.none()
        return selectors.hq_member_list(actor=self.request.user)

    def get_object(self):
        return selectors.hq_member_get(
            actor=self.request.user, pk=object_id(self.kwargs["pk"], _("User"))
        )

    @extend_schema(responses={200: PartnerUserOut(many=True)})
    def list(self, request, *args, **kwargs):
        return Response(PartnerUserOut(self.get_queryset()[:500], many=True).data)

    @extend_schema(request=None, responses={200: PartnerUserOut})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """The login stops working at once (not your own)."""
        member = services.partner_user_deactivate(
            actor=request.user, member=self.get_object()
        )
        return Response(PartnerUserOut(member).data)


class TierOut(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["id", "name", "rank", "description"]


class TierIn(serializers.ModelSerializer):
    rank = serializers.IntegerField(min_value=0, max_value=32767, required=False)

    class Meta:
        model = Tier
        fields = ["name", "rank", "description"]
        extra_kwargs = {"name": {"validators": []}}


class TierUpdate(TierIn):
    class Meta(TierIn.Meta):
        extra_kwargs = {"name": {"validators": [], "required": False}}


class TierViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """Partner tiers (一级经销商…); rank 1 is the highest."""

    spec = REGISTRY["channels.tier"]
    output_serializer_class = TierOut
    create_service = services.tier_create
    update_service = services.tier_update

    def get_serializer_class(self):
        return {
            "create": TierIn,
            "update": TierUpdate,
            "partial_update": TierUpdate,
        }.get(self.action, TierOut)

    @extend_schema(request=TierIn, responses={201: TierOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=TierUpdate, responses={200: TierOut})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=TierUpdate, responses={200: TierOut})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


router = SimpleRouter()
router.register("partners", PartnerViewSet, basename="channel-partner")
router.register("territories", TerritoryViewSet, basename="channel-territory")
router.register("partner-users", PartnerUserViewSet, basename="channel-partneruser")
router.register("tiers", TierViewSet, basename="channel-tier")
urlpatterns = router.urls
