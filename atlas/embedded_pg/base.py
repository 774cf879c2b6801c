"""Django's PostgreSQL backend, connected to the checkout's embedded server."""

from django.db.backends.postgresql import base, client

from atlas.embedded_pg.server import bin_path, socket_dir


class DatabaseClient(client.DatabaseClient):
    """`manage.py dbshell` with the wheel's own psql, so no system PostgreSQL is needed."""

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        settings_dict = {**settings_dict, "HOST": socket_dir()}
        args, env = super().settings_to_cmd_args_env(settings_dict, parameters)
        args[0] = bin_path("psql")
        return args, env


class DatabaseWrapper(base.DatabaseWrapper):
    client_class = DatabaseClient

    def get_connection_params(self):
        params = super().get_connection_params()
        params["host"] = socket_dir()
        return params
