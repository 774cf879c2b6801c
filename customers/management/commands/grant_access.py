"""Grant (or revoke) a user's sight of a customer's data."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from atlas.commands import TenantCommand
from customers.models import Customer
from customers.selectors import customer_get
from customers.services import AccessChangeRefused, access_grant, access_revoke


class Command(TenantCommand):
    help = (
        "Grant a user access to a customer's data, or take it away with --revoke. As a superuser "
        "(the default system account), or --actor a staff member holding 'manage access' on it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, metavar="USERNAME")
        parser.add_argument("--customer", required=True, metavar="NAME_OR_ID")
        parser.add_argument("--revoke", action="store_true")

    def handle(self, *args, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"No user {options['user']!r}.")
        try:
            customer = customer_get(name_or_id=options["customer"])
        except Customer.DoesNotExist:
            raise CommandError(f"No customer {options['customer']!r} visible to this actor.")
        try:
            if options["revoke"]:
                revoked = access_revoke(user=user, customer=customer, actor=self.actor)
                self.stdout.write(
                    f"Revoked {user} → {customer}." if revoked else f"{user} had no access to {customer}."
                )
            else:
                access_grant(user=user, customer=customer, actor=self.actor)
                self.stdout.write(f"Granted {user} → {customer}.")
        except AccessChangeRefused as exc:
            raise CommandError(str(exc))
