"""Create a customer; its Qlik API key comes from $QLIK_API_KEY or stdin, never from argv."""

import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from atlas.commands import TenantCommand
from customers.services import customer_create


class Command(TenantCommand):
    help = "Create a customer. The API key is read from $QLIK_API_KEY or, with --api-key-stdin, stdin."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--tenant-url", required=True)
        parser.add_argument(
            "--api-key-stdin", action="store_true", help="read the API key from standard input"
        )

    def handle(self, *args, **options):
        if options["api_key_stdin"]:
            api_key = sys.stdin.readline().strip()
            if not api_key:
                raise CommandError("--api-key-stdin was given but standard input was empty.")
        else:
            api_key = os.environ.get("QLIK_API_KEY", "").strip() or None
        try:
            customer = customer_create(
                name=options["name"], tenant_url=options["tenant_url"], api_key=api_key
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))
        self.stdout.write(str(customer.pk))
