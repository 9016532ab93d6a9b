"""D5 portal sell-through API (/api/v1/portal/sell-through/): a partner's systems report
sales with a per-partner API key (header `Authorization: Api-Key <key>`), or a partner
user with a session or token. Only the caller's own partner's reports: another
partner's id is 404; HQ users are refused (403).

POST a report: `reference` (your own report id) and `lines`. The first request answers
201; the same reference with the same lines again answers 200 with the first report and
the header `Idempotent-Replayed: true`, counting nothing twice; the same reference with
other lines answers 409. Each invalid line is named in `fields` as
`lines.<index>.<field>`.
"""

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, mixins, serializers
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.channels.api.sellthrough import ReportDetailOut, ReportOut
from crm.channels.models import SellThroughReport
from crm.channels.models.base import MONEY, QUANTITY
from crm.channels.portal.access import IsPartnerUser, PortalAPIMixin, membership
from crm.channels.selectors import sellthrough as _lists  # noqa: F401 (registers specs)
from crm.channels.services.sellthrough import (
    REFERENCE_MAX,
    api_key_authenticate,
    sell_through_report_submit,
)
from crm.core.api.viewsets import ScopedViewSet
from crm.core.lists import REGISTRY

KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`: the partner's key (created by one of its
    administrators in the portal). The request acts as that administrator for that
    partner; a wrong or revoked key, or a key whose creator has left the partner, is
    refused (401)."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() != KEYWORD.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send one key after Api-Key."))
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from None
        key = api_key_authenticate(raw)
        if key is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        user = key.created_by
        member = membership(user)
        if not user.is_active or member is None or member.partner_id != key.partner_id:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        return user, key

    def authenticate_header(self, request):
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "partnerApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A partner's sell-through API key, sent as "
            "`Authorization: Api-Key <key>`. Partner administrators create and revoke "
            "keys in the portal (API keys).",
        }


class LineIn(serializers.Serializer):
    sold_on = serializers.DateField(help_text="Sale date; not in the future.")
    product = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="Product id (active)."
    )
    quantity = serializers.DecimalField(**QUANTITY, help_text="Greater than 0.")
    amount = serializers.DecimalField(**MONEY, help_text="0 or more.")
    end_customer_name = serializers.CharField(max_length=100)
    region = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text="Region id: the GB/T 2260 division code (e.g. 440305).",
    )


class ReportIn(serializers.Serializer):
    reference = serializers.CharField(
        max_length=REFERENCE_MAX,
        help_text="Your own report id: the same id is never counted twice.",
    )
    lines = LineIn(many=True, allow_empty=False, max_length=5000)


class PortalSellThroughViewSet(PortalAPIMixin, mixins.CreateModelMixin, ScopedViewSet):
    """D5 the partner's sell-through reports: list, report (idempotent by reference),
    detail with lines."""

    spec = REGISTRY["channels.portal_sellthroughreport"]
    authentication_classes = [
        ApiKeyAuthentication,
        authentication.SessionAuthentication,
        authentication.TokenAuthentication,
    ]
    permission_classes = [IsPartnerUser]

    @property
    def partner(self):
        key = getattr(self.request, "auth", None)
        if getattr(key, "partner", None) is not None:
            return key.partner
        return super().partner

    def get_queryset(self):
        qs = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return qs
        qs = qs.filter(partner=self.partner)
        if self.action == "retrieve":
            qs = qs.prefetch_related("lines__product", "lines__region")
        return qs

    def get_serializer_class(self):
        return {"list": ReportOut, "create": ReportIn}.get(self.action, ReportDetailOut)

    @extend_schema(
        request=ReportIn,
        responses={
            201: ReportDetailOut,
            200: OpenApiResponse(
                ReportDetailOut,
                description="A resubmission of the same report id with the same "
                "lines: the report stored before (header Idempotent-Replayed: true).",
            ),
            409: None,
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = ReportIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = request.auth if hasattr(request.auth, "partner") else None
        report = sell_through_report_submit(
            actor=request.user,
            partner=self.partner,
            reference=data["reference"],
            lines=[dict(line) for line in data["lines"]],
            source=SellThroughReport.Source.API,
            api_key=key,
        )
        fresh = (
            self.get_queryset()
            .prefetch_related("lines__product", "lines__region")
            .get(pk=report.pk)
        )
        response = Response(
            ReportDetailOut(fresh, context=self.get_serializer_context()).data,
            status=200 if report.replayed else 201,
        )
        if report.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


router = SimpleRouter()
router.register("sell-through", PortalSellThroughViewSet, basename="portal-sellthrough")
urlpatterns = router.urls
