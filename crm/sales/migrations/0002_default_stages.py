"""The pipeline stages a new installation starts with (S2); they are data, editable later."""

from django.db import migrations

STAGES = [
    ("初步接洽", 10, "open"),
    ("需求确认", 25, "open"),
    ("方案报价", 50, "open"),
    ("商务谈判", 75, "open"),
    ("赢单", 100, "won"),
    ("输单", 0, "lost"),
]


def create_stages(apps, schema_editor):
    Stage = apps.get_model("sales", "Stage")
    if Stage.objects.exists():
        return
    for order, (name, probability, kind) in enumerate(STAGES, start=1):
        Stage.objects.create(
            name=name, probability=probability, kind=kind, sort_order=order * 10
        )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create_stages, migrations.RunPython.noop)]
