"""POST /api/v1/auth/token/ trades a username and password for an API token; DELETE revokes it.

Logins through the API count towards the same lockout as the login page (Y1, django-axes:
5 failures per account and address lock that pair for 15 minutes). A locked pair is
answered 429 with a JSON error and Retry-After, never the HTML lockout page.
"""

from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.core.api.errors import error_body
from crm.core.api.schema import AutoSchema, ErrorSerializer
from crm.core.errors import Invalid


class TokenIn(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )


class TokenOut(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send it as the header: Authorization: Token <token>"
    )


class TokenView(APIView):
    schema = AutoSchema()

    def get_permissions(self):
        # Only obtaining a token is open; anything else needs a login like every endpoint.
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(
        request=TokenIn,
        responses={200: TokenOut, 429: ErrorSerializer},
        summary="Obtain an API token",
    )
    def post(self, request):
        serializer = TokenIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        # axes marks the Django request (not DRF's wrapper) when the pair is locked.
        django_request = request._request
        user = authenticate(
            request=django_request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            # Answered here in JSON; AxesMiddleware would answer with the HTML page.
            django_request.axes_locked_out = False
            return self._locked_out(django_request)
        if user is None:
            message = _("Unable to log in with this username and password.")
            raise Invalid(message, fields={"non_field_errors": [message]})
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: None}, summary="Revoke the API token")
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=204)

    def _locked_out(self, django_request):
        cool_off = get_cool_off(django_request)
        minutes = int(cool_off.total_seconds() // 60) if cool_off else 0
        message = _(
            "Too many failed login attempts. Try again in %(minutes)d minutes."
        ) % {"minutes": minutes}
        headers = (
            {"Retry-After": str(int(cool_off.total_seconds()))} if cool_off else {}
        )
        return Response(error_body("locked_out", message), status=429, headers=headers)
