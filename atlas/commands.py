"""Base class for management commands that read or write tenant data."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from atlas import rls


class TenantCommand(BaseCommand):
    """Runs `handle` inside `acting_as(actor)`: `--actor USERNAME`, or the system account.

    Changes are then checked by RLS and recorded as made by that user. A command whose
    service commits in several steps (a sync records its run apart from its data) sets
    `single_transaction = False` and passes `self.actor` to the service instead.
    """

    single_transaction = True
    actor = None

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--actor",
            metavar="USERNAME",
            help=f"act as this user (default: the system account {settings.ATLAS_SYSTEM_USERNAME})",
        )
        return parser

    def execute(self, *args, **options):
        username = options.get("actor") or settings.ATLAS_SYSTEM_USERNAME
        try:
            actor = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {username!r} to act as (run `manage.py migrate`?).")
        self.actor = actor
        if not self.single_transaction:
            return super().execute(*args, **options)
        with rls.acting_as(actor):
            return super().execute(*args, **options)
