"""One DRF exception handler: every error answers {"code", "message", "fields"} with its status.

- invalid input (serializer errors, domain Invalid, malformed JSON, values the database
  cannot store) → 400 with the fields and their messages;
- no or bad credentials → 401 with "WWW-Authenticate: Token" (see below);
- no permission → 403; unknown or out-of-scope record → 404; stale version → 409.

Why 401 is decided here and not by the order of DEFAULT_AUTHENTICATION_CLASSES: DRF
answers an unauthenticated request with the first authentication class's challenge, and
turns it into 403 when that class (SessionAuthentication) has none. Every endpoint accepts
"Authorization: Token <key>", so this handler always answers 401 with the Token challenge,
whatever the order of the classes and whichever view raised it (the schema and docs
views included). Session users keep CSRF protection: a CSRF failure stays a 403.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from crm.core.errors import DomainError, invalid_from_django


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": str(message), "fields": flatten_fields(fields)}


def flatten_fields(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF error details (nested dicts and lists) as {"a.b.0.c": ["message", ...]}."""
    if not detail:
        return {}
    result: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for name, value in detail.items():
            key = f"{prefix}.{name}" if prefix else str(name)
            for sub, messages in flatten_fields(value, key).items():
                result.setdefault(sub, []).extend(messages)
        return result
    if isinstance(detail, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        for index, item in enumerate(detail):
            if item:
                key = f"{prefix}.{index}" if prefix else str(index)
                for sub, messages in flatten_fields(item, key).items():
                    result.setdefault(sub, []).extend(messages)
        return result
    return {prefix or "non_field_errors": [str(detail)]}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = invalid_from_django(exc)
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.code, exc.message, exc.fields), status=exc.status
        )
    if isinstance(exc, Http404):
        return Response(error_body("not_found", _("Not found.")), status=404)
    if isinstance(exc, PermissionDenied):
        return Response(
            error_body("forbidden", _("You do not have permission to do this.")),
            status=403,
        )
    if isinstance(exc, DataError):
        # Last line of defence: serializers should have refused the value already.
        return Response(
            error_body(
                "invalid",
                _(
                    "A value is out of range or contains characters that cannot be stored."
                ),
            ),
            status=400,
        )
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        exc.status_code = status.HTTP_401_UNAUTHORIZED
        exc.auth_header = getattr(exc, "auth_header", None) or (
            TokenAuthentication.keyword
        )
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_fields(
            exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail}
        )
        response.data = error_body("invalid", _("Some fields are invalid."), fields)
    elif isinstance(exc, exceptions.ParseError):
        response.data = error_body(
            "invalid",
            _("The request body could not be read: %(error)s") % {"error": exc.detail},
        )
    elif isinstance(exc, exceptions.PermissionDenied):
        response.data = error_body("forbidden", str(exc.detail))
    elif isinstance(exc, exceptions.APIException):
        response.data = error_body(exc.default_code, str(exc.detail))
    return response


def page_not_found(request, exception=None):
    """handler404 for the project: the JSON envelope under /api/, Django's page elsewhere.

    URLs the router does not match at all (/api/v1/org/employees/1.5/, /api/v2/) otherwise
    answer an HTML page to API clients. Wire with handler404 in config/urls.py.
    """
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return defaults.page_not_found(request, exception)
