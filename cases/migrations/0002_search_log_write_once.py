"""The search log is write-once in the database too: rows of a logged search (the search, its
query drawings, its ranking) refuse UPDATE and DELETE, whatever code or SQL tries. Django's
models refuse first (cases.models); this trigger also covers raw SQL and the admin.
TRUNCATE (used only to empty a test database) does not fire row triggers."""

from django.db import migrations

TABLES = ("cases_casesearch", "cases_queryimage", "cases_loggedhit")

FUNCTION = """
CREATE OR REPLACE FUNCTION cases_search_log_write_once() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a logged search cannot be changed or deleted (%)', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _create() -> list[str]:
    return [FUNCTION] + [
        f"CREATE TRIGGER {table}_write_once BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION cases_search_log_write_once();"
        for table in TABLES
    ]


def _drop() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_write_once ON {table};" for table in TABLES] + [
        "DROP FUNCTION IF EXISTS cases_search_log_write_once();"
    ]


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunSQL(sql=_create(), reverse_sql=_drop())]
