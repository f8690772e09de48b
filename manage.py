#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that manage the schema themselves; every other command finds the embedded database
# migrated (an external DATABASE_URL is never migrated implicitly).
SCHEMA_COMMANDS = {"migrate", "makemigrations", "squashmigrations", "showmigrations", "sqlmigrate",
                   "help", "version", "--help", "-h", "--version", "test"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patentsearch.settings.base")
    from django.core.management import execute_from_command_line

    if len(sys.argv) > 1:
        import django

        from patentsearch import embedded

        django.setup()
        embedded.prepare(migrate=sys.argv[1] not in SCHEMA_COMMANDS)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
