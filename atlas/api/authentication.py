"""Token authentication for scripts: `Authorization: Token <key>`, looked up by its hash."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from customers.models import ApiToken
from customers.selectors import api_token_active_get
from customers.services import api_token_hash, api_token_used


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's header parsing, our hashed, expiring, revocable tokens."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        try:
            token = api_token_active_get(key_hash=api_token_hash(key))
        except ApiToken.DoesNotExist:
            # One message for unknown, revoked and expired keys: no oracle for guessing.
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        api_token_used(token=token)
        return token.user, token


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "atlas.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; create one with `manage.py create_api_token --user NAME`.",
        }
