"""Data: China's provinces, cities and districts (GB/T 2260) from data/regions.json.

The primary key of a region is its code, so the materialised path reads as codes and the
migration can be rerun safely (existing codes are left alone).
"""

import json
from pathlib import Path

from django.db import migrations

REGIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "regions.json"


def load_regions(apps, schema_editor):
    Region = apps.get_model("customers", "Region")
    existing = set(Region.objects.values_list("code", flat=True))
    rows = []

    def add(code, name, level, parent_path, parent_id):
        path = f"{parent_path}{int(code)}/"
        if code not in existing:
            rows.append(
                Region(
                    id=int(code),
                    code=code,
                    name=name,
                    level=level,
                    parent_id=parent_id,
                    path=path,
                    depth=level - 1,
                )
            )
        return path

    regions = json.loads(REGIONS_FILE.read_text(encoding="utf-8"))
    for province_code, province, cities in regions:
        province_path = add(province_code, province, 1, "/", None)
        for city_code, city, districts in cities:
            city_path = add(city_code, city, 2, province_path, int(province_code))
            for district_code, district in districts:
                add(district_code, district, 3, city_path, int(city_code))
    # Parents before children: the list is built top-down.
    Region.objects.bulk_create(rows, batch_size=500)


def unload_regions(apps, schema_editor):
    Region = apps.get_model("customers", "Region")
    for level in (3, 2, 1):
        Region.objects.filter(level=level).delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(load_regions, unload_regions)]
