"""One DRF exception handler: every error answers {"code", "message", "fields"} with its status."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from crm.core.errors import DomainError, invalid_from_django


def _body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = invalid_from_django(exc)
    if isinstance(exc, DomainError):
        return Response(_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, Http404):
        return Response(_body("not_found", _("Not found.")), status=404)
    if isinstance(exc, PermissionDenied):
        return Response(
            _body("forbidden", _("You do not have permission to do this.")), status=403
        )
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = (
            exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail}
        )
        response.data = _body("invalid", _("Some fields are invalid."), detail)
    elif isinstance(exc, exceptions.APIException):
        response.data = _body(exc.default_code, str(exc.detail))
    return response
