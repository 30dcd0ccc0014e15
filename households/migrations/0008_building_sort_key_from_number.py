from django.db import migrations


def recompute(apps, schema_editor):
    """Buildings added through the admin kept sort key 0 and printed before 1号楼: derive every key
    from the number, as Building.save now does (in chunks, only the rows that change)."""
    from core.edges import building_sort_key

    Building = apps.get_model("households", "Building")
    changed = []
    for building in Building.objects.only("id", "number", "sort_key").iterator(chunk_size=2000):
        key = building_sort_key(building.number)
        if key != building.sort_key:
            building.sort_key = key
            changed.append(building)
    Building.objects.bulk_update(changed, ["sort_key"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("households", "0007_verified_identity")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
