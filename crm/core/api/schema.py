"""OpenAPI documentation of the error answers every endpoint shares (X2).

Every error body has the same shape, produced by crm.core.api.errors.exception_handler:
{"code": "...", "message": "...", "fields": {"field": ["message", ...]}}. AutoSchema adds
the statuses an operation can answer with that body, so clients and the schemathesis
pass know them:

- 400 for writes and for lists with query parameters (invalid input, field by field);
- 401 without valid credentials (session or "Authorization: Token <key>");
- 403 without the permission for the action;
- 404 for an id that does not exist or is outside the caller's data scope;
- 409 for a PUT/PATCH of a versioned record carrying a stale version;
- 415 for a body whose media type cannot be parsed (a broken multipart form).
"""

from drf_spectacular import openapi
from rest_framework import serializers

from crm.core.models import Versioned


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable error code: invalid, not_authenticated, "
        "authentication_failed, forbidden, not_found, conflict, locked_out, …"
    )
    message = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field; nested fields are joined with dots "
        "(lines.0.price). Empty when the error is not about fields.",
    )


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: the fields that are wrong, each with its messages.",
    "401": "No valid credentials: log in or send Authorization: Token <key>.",
    "403": "The caller lacks the permission for this action.",
    "404": "No such record, or the record is outside the caller's data scope.",
    "409": "The record was changed meanwhile: the version sent is stale.",
    "415": "The request body's media type is not accepted, or it cannot be parsed.",
    "429": "Too many failed login attempts: locked for a while.",
}


def _view_model(view):
    spec = getattr(view, "spec", None)
    if spec is not None:
        return spec.model
    queryset = getattr(view, "queryset", None)
    return getattr(queryset, "model", None)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema plus the shared error responses."""

    def error_codes(self, operation: dict) -> list[str]:
        method = self.method
        codes = ["403"]
        if getattr(self.view, "authentication_classes", None):
            codes.append("401")
        has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
        if method in ("POST", "PUT", "PATCH", "DELETE") or has_query:
            codes.append("400")
        if method in ("POST", "PUT", "PATCH"):
            codes.append("415")
        if "{" in self.path:
            codes.append("404")
        model = _view_model(self.view)
        if (
            method in ("PUT", "PATCH")
            and model is not None
            and issubclass(model, Versioned)
        ):
            codes.append("409")
        return codes

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        error = self.resolve_serializer(ErrorSerializer, "response")
        responses = operation["responses"]
        for code in [*self.error_codes(operation), *responses]:
            documented = responses.get(code, {})
            if code[0] not in "45" or documented.get("content"):
                continue
            responses[code] = {
                "description": ERROR_DESCRIPTIONS.get(code)
                or documented.get("description", "Error."),
                "content": {"application/json": {"schema": error.ref}},
            }
        operation["responses"] = dict(sorted(responses.items()))
        return operation
