"""Business numbers from database-backed sequences: unique under concurrent creation."""

from django.db import IntegrityError, transaction

from crm.core.models import Sequence


def next_number(key: str, *, prefix: str = "", padding: int = 6) -> str:
    """Take the next number of sequence `key` (created on first use with `prefix`)."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                seq = Sequence.objects.select_for_update().filter(key=key).first()
                if seq is None:
                    seq = Sequence.objects.create(
                        key=key, prefix=prefix, padding=padding
                    )
                    seq = Sequence.objects.select_for_update().get(pk=seq.pk)
                value = seq.next_value
                seq.next_value = value + 1
                seq.save(update_fields=["next_value"])
                return f"{seq.prefix}{value:0{seq.padding}d}"
        except (
            IntegrityError
        ):  # two first uses raced to create the row; the loser retries
            continue
    raise RuntimeError(f"could not allocate a number from sequence {key!r}")
