"""Business numbers from database-backed sequences: unique under concurrent creation.

Modules register their sequences (key, label, default prefix) so that an administrator can set
the prefix and digits before the first number is taken (System setup → Number sequences).
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Invalid
from crm.core.models import AuditEvent, Sequence
from crm.core.scopes import authorize


@dataclass(frozen=True)
class SequenceSpec:
    key: str
    label: str | Promise
    prefix: str
    padding: int = 6


SEQUENCES: dict[str, SequenceSpec] = {}


def register_sequence(spec: SequenceSpec) -> None:
    SEQUENCES[spec.key] = spec


def next_number(key: str, *, prefix: str = "", padding: int = 6) -> str:
    """Take the next number of sequence `key` (created on first use with `prefix`)."""
    return next_numbers(key, 1, prefix=prefix, padding=padding)[0]


def next_numbers(
    key: str, count: int, *, prefix: str = "", padding: int = 6
) -> list[str]:
    """Take the next `count` numbers of sequence `key` at once, in order (one locked
    update for a whole batch of records, e.g. an import)."""
    spec = SEQUENCES.get(key)
    if spec is not None:
        prefix, padding = prefix or spec.prefix, spec.padding
    for _attempt in range(3):
        try:
            with transaction.atomic():
                seq = Sequence.objects.select_for_update().filter(key=key).first()
                if seq is None:
                    seq = Sequence.objects.create(
                        key=key, prefix=prefix, padding=padding
                    )
                    seq = Sequence.objects.select_for_update().get(pk=seq.pk)
                first = seq.next_value
                seq.next_value = first + count
                seq.save(update_fields=["next_value"])
                return [
                    f"{seq.prefix}{value:0{seq.padding}d}"
                    for value in range(first, first + count)
                ]
        except (
            IntegrityError
        ):  # two first uses raced to create the row; the loser retries
            continue
    raise RuntimeError(f"could not allocate a number from sequence {key!r}")


def sequence_rows() -> list[dict]:
    """Every registered sequence with its stored state (or its defaults before first use)."""
    stored = {s.key: s for s in Sequence.objects.filter(key__in=SEQUENCES)}
    rows = []
    for key, spec in SEQUENCES.items():
        seq = stored.get(key)
        rows.append(
            {
                "key": key,
                "label": spec.label,
                "prefix": seq.prefix if seq else spec.prefix,
                "padding": seq.padding if seq else spec.padding,
                "next_value": seq.next_value if seq else 1,
            }
        )
        row = rows[-1]
        row["preview"] = f"{row['prefix']}{row['next_value']:0{row['padding']}d}"
    return rows


@transaction.atomic
def sequence_update(*, actor, key: str, prefix: str, padding: int) -> Sequence:
    """Change a sequence's prefix and digits; numbers already issued keep theirs."""
    authorize(actor, "core.manage_system")
    spec = SEQUENCES.get(key)
    if spec is None:
        raise Invalid(_("Unknown number sequence."), fields={"key": [_("Unknown.")]})
    errors = {}
    prefix = (prefix or "").strip()
    if len(prefix) > 16 or not all(c.isalnum() or c in "-_/" for c in prefix):
        errors["prefix"] = [_("Up to 16 letters, digits, '-', '_' or '/'.")]
    if not isinstance(padding, int) or not 1 <= padding <= 12:
        errors["padding"] = [_("Between 1 and 12 digits.")]
    if errors:
        raise Invalid(_("The number sequence is invalid."), fields=errors)
    seq, _created = Sequence.objects.select_for_update().get_or_create(
        key=key, defaults={"prefix": spec.prefix, "padding": spec.padding}
    )
    before = snapshot(seq)
    seq.prefix, seq.padding = prefix, padding
    seq.save(update_fields=["prefix", "padding"])
    audit_record(actor=actor, obj=seq, action=AuditEvent.Action.UPDATE, before=before)
    return seq
