"""Create a project for a customer and print its id."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from atlas.commands import TenantCommand
from customers.models import Customer
from customers.selectors import customer_get
from customers.services import project_create


class Command(TenantCommand):
    help = "Create a project for a customer (by name or id) and print the project id."

    def add_arguments(self, parser):
        parser.add_argument("--customer", required=True, metavar="NAME_OR_ID")
        parser.add_argument("--name", required=True)

    def handle(self, *args, **options):
        try:
            customer = customer_get(name_or_id=options["customer"])
            project = project_create(customer=customer, name=options["name"])
        except Customer.DoesNotExist:
            raise CommandError(f"No customer {options['customer']!r} visible to this actor.")
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))
        self.stdout.write(str(project.pk))
