"""On PostgreSQL the database itself refuses UPDATE and DELETE of audit rows.

TRUNCATE is left to the table owner (test flushes use it); the application's role should not own tables.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION harvester_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER harvester_auditevent_append_only
  BEFORE UPDATE OR DELETE ON harvester_auditevent
  FOR EACH ROW EXECUTE FUNCTION harvester_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS harvester_auditevent_append_only ON harvester_auditevent;
DROP FUNCTION IF EXISTS harvester_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("harvester", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
