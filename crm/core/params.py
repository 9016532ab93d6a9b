"""Y2 system parameters: a typed registry, validated, cached, audited.

Modules register their own parameters with `register()`; the values live in SystemParameter.
"""

from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Invalid
from crm.core.models import AuditEvent, SystemParameter
from crm.core.scopes import authorize

CACHE_KEY = "crm:params:v1"


@dataclass(frozen=True)
class Param:
    key: str
    label: str | Promise
    kind: type  # int, str, bool
    default: Any
    group: str | Promise = gettext_lazy("General")  # noqa: RUF009 - a lazy string, evaluated per request
    min: int | None = None
    max: int | None = None
    email: bool = False
    help: str | Promise = ""
    choices: tuple = field(default_factory=tuple)

    @property
    def type_name(self) -> str:
        return self.kind.__name__

    def clean(self, raw) -> Any:
        """Convert and validate one submitted value; raise ValueError with a readable message."""
        if self.kind is bool:
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in {"1", "true", "on", "yes"}
        if self.kind is int:
            try:
                value = int(str(raw).strip())
            except (TypeError, ValueError):
                raise ValueError(_("Enter a whole number.")) from None
            if self.min is not None and value < self.min:
                raise ValueError(_("Must be at least %(min)s.") % {"min": self.min})
            if self.max is not None and value > self.max:
                raise ValueError(_("Must be at most %(max)s.") % {"max": self.max})
            return value
        value = str(raw if raw is not None else "").strip()
        if self.email and value:
            try:
                validate_email(value)
            except ValidationError:
                raise ValueError(_("Enter a valid e-mail address.")) from None
        if self.choices and value not in self.choices:
            raise ValueError(
                _("Choose one of: %(c)s.") % {"c": ", ".join(self.choices)}
            )
        return value


REGISTRY: dict[str, Param] = {}


def register(*params: Param) -> None:
    for p in params:
        REGISTRY[p.key] = p


_DOC = gettext_lazy("Decimal places")
register(
    Param(
        "admin_email",
        gettext_lazy("Administrator e-mail"),
        str,
        "admin@example.com",
        email=True,
    ),
    Param(
        "receivable_reminder_days",
        gettext_lazy("Receivable reminder days"),
        int,
        7,
        min=0,
        max=365,
        group=gettext_lazy("Reminders"),
        help=gettext_lazy("Remind owners this many days before an instalment is due."),
    ),
    Param(
        "birthday_reminder_days",
        gettext_lazy("Birthday reminder days"),
        int,
        3,
        min=0,
        max=60,
        group=gettext_lazy("Reminders"),
        help=gettext_lazy("Remind the responsible employee this many days ahead."),
    ),
    Param(
        "decimals_contract",
        gettext_lazy("Contract amounts"),
        int,
        2,
        min=0,
        max=6,
        group=_DOC,
    ),
    Param(
        "decimals_order",
        gettext_lazy("Order amounts"),
        int,
        2,
        min=0,
        max=6,
        group=_DOC,
    ),
    Param(
        "decimals_quote",
        gettext_lazy("Quote amounts"),
        int,
        2,
        min=0,
        max=6,
        group=_DOC,
    ),
    Param(
        "decimals_product",
        gettext_lazy("Product prices"),
        int,
        2,
        min=0,
        max=6,
        group=_DOC,
    ),
    Param("company_name", gettext_lazy("Company name"), str, "华夏智造集团"),
)


def all_params() -> dict[str, Any]:
    values = cache.get(CACHE_KEY)
    if values is None:
        stored = dict(SystemParameter.objects.values_list("key", "value"))
        values = {key: stored.get(key, p.default) for key, p in REGISTRY.items()}
        cache.set(CACHE_KEY, values, 300)
    return values


def get_param(key: str) -> Any:
    if key not in REGISTRY:
        raise KeyError(key)
    return all_params().get(key, REGISTRY[key].default)


@transaction.atomic
def params_update(*, actor, values: dict[str, Any]) -> dict[str, Any]:
    """Validate every submitted parameter (errors per field), then store and audit the changes."""
    authorize(actor, "core.manage_system")
    cleaned, errors = {}, {}
    for key, raw in values.items():
        param = REGISTRY.get(key)
        if param is None:
            errors[key] = [_("Unknown parameter.")]
            continue
        try:
            cleaned[key] = param.clean(raw)
        except ValueError as exc:
            errors[key] = [str(exc)]
    if errors:
        raise Invalid(_("Some parameters are invalid."), fields=errors)
    current = all_params()
    for key, value in cleaned.items():
        if current.get(key) == value:
            continue  # unchanged: nothing to store, nothing to audit
        obj = SystemParameter.objects.filter(key=key).first()
        before = snapshot(obj) if obj else {"key": key, "value": current.get(key)}
        obj, _created = SystemParameter.objects.update_or_create(
            key=key, defaults={"value": value}
        )
        audit_record(
            actor=actor, obj=obj, action=AuditEvent.Action.UPDATE, before=before
        )
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))
    cache.delete(CACHE_KEY)
    return cleaned
