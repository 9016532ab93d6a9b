"""Domain errors: services raise them, the API and HTML layers map them to HTTP statuses."""


class DomainError(Exception):
    status, code = 400, "invalid"

    def __init__(self, message: str, *, fields: dict | None = None):
        super().__init__(message)
        self.message, self.fields = str(message), fields or {}


class Invalid(DomainError):
    status, code = 400, "invalid"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


def invalid_from_django(error) -> Invalid:
    """Turn a Django ValidationError into an Invalid carrying its per-field messages."""
    if hasattr(error, "message_dict"):
        fields = {
            name: [str(m) for m in msgs] for name, msgs in error.message_dict.items()
        }
        first = next(iter(fields.values()), [""])[0]
        return Invalid(first, fields=fields)
    return Invalid("; ".join(str(m) for m in error.messages))
