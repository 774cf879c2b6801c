"""Create an API token for a user and print its key, once."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from customers.models import User
from customers.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token (sent as 'Authorization: Token <key>'); the key is printed once."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, metavar="USERNAME")
        parser.add_argument("--name", default="command line", help="what the token is for")
        parser.add_argument("--days", type=int, help="expire after this many days (default: never)")

    def handle(self, *args, **options):
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"No user {options['user']!r}.")
        if options["days"] is not None and options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        expires = timezone.now() + timedelta(days=options["days"]) if options["days"] else None
        token, key = api_token_create(user=user, name=options["name"], expires_at=expires)
        self.stderr.write(f"Token {token.prefix}… for {user.username} created; it is shown once, keep it:")
        self.stdout.write(key)
