"""Seed the ETF universe, and on PostgreSQL keep every lot in the account of the trade that made it."""

from django.db import migrations

LOT_ACCOUNT_TRIGGER = """
CREATE OR REPLACE FUNCTION lots_lot_account_matches_origin() RETURNS trigger AS $$
BEGIN
  IF NEW.account_id IS DISTINCT FROM (SELECT account_id FROM lots_transaction WHERE id = NEW.origin_id) THEN
    RAISE EXCEPTION 'lot % must be in the account of its originating transaction %', NEW.id, NEW.origin_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER lots_lot_account_matches_origin
  BEFORE INSERT OR UPDATE ON lots_lot
  FOR EACH ROW EXECUTE FUNCTION lots_lot_account_matches_origin();
"""
DROP = """
DROP TRIGGER IF EXISTS lots_lot_account_matches_origin ON lots_lot;
DROP FUNCTION IF EXISTS lots_lot_account_matches_origin();
"""


def seed(apps, schema_editor):
    from lots.reference import load_universe

    load_universe(apps)


def trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LOT_ACCOUNT_TRIGGER, params=None)


def untrigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("lots", "0001_initial")]
    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(trigger, untrigger),
    ]
