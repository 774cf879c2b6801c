"""Print (or write to docs/schema.md) the Mermaid ER diagram of the tables."""

from django.conf import settings
from django.core.management.base import BaseCommand

from atlas.schema_diagram import schema_diagram

DIAGRAM_PATH = settings.BASE_DIR / "docs" / "schema.md"


class Command(BaseCommand):
    help = "Print the Mermaid ER diagram generated from the models; --write updates docs/schema.md."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help=f"write it to {DIAGRAM_PATH}")

    def handle(self, *args, **options):
        diagram = schema_diagram()
        if options["write"]:
            DIAGRAM_PATH.write_text(diagram)
            self.stdout.write(f"Wrote {DIAGRAM_PATH}")
        else:
            self.stdout.write(diagram, ending="")
