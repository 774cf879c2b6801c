"""The REST API's shared parts: authentication, throttling, pagination, base views."""
