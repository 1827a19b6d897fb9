from django.db import migrations


def seed(apps, schema_editor):
    from lots.reference import load_universe

    load_universe(apps)


class Migration(migrations.Migration):
    dependencies = [("lots", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
