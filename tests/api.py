"""Helpers for API tests: a token per user and a client that sends it."""

from django.test import Client

from customers.services import api_token_create


def token_client(user, **token_options) -> Client:
    _, key = api_token_create(user=user, name="test", **token_options)
    return Client(headers={"Authorization": f"Token {key}"})
