"""Qlik metadata exported to files (qlik-cli, API dumps), read like the live API. No ORM.

For customers who cannot give an API key. `ArtifactDirectory` answers the same calls as
`QlikClient`, so an import goes through exactly the sync's code, usage rule and storage.

Layout (each listing a JSON array, or an API page `{"data": [...]}`):

    spaces.json               GET /spaces             (qlik space ls --json)
    items.json | apps.json    GET /items?resourceType=app (qlik item ls --resourceType app --json)
    data-connections.json     GET /data-connections
    datasets.json             GET /items?resourceType=dataset   optional
    reloads.json              GET /reloads            optional
    audits.json               GET /audits             optional (sheet-view events)
    apps/<app GUID>.json      GET /apps/{id}          optional
    scripts/<app GUID>.qvs    the load script         optional (qlik app script get), or .json {"script": ...}
    reload-metadata/<app GUID>.json                   optional
    lineage/<app GUID>.json   GET /lineage-graphs/nodes/{app QRI}   optional
    includes/<connection>/<path>   files the scripts $(Include=lib://<connection>/<path>)   optional
"""

import json
from collections.abc import Iterator
from pathlib import Path

from qlik.client import ClientStats, QlikBadResponse


class ArtifactError(QlikBadResponse):
    """A file is missing or not shaped like the API response it stands for."""


class ArtifactDirectory:
    """A directory of exported JSON, answering like `QlikClient`."""

    def __init__(self, directory: str | Path):
        self.root = Path(directory)
        if not self.root.is_dir():
            raise ArtifactError(f"{self.root} is not a directory")
        self.stats = ClientStats()
        self._items_file = next(
            (name for name in ("items.json", "apps.json") if (self.root / name).is_file()), None
        )
        if self._items_file is None:
            raise ArtifactError(f"{self.root} holds neither items.json nor apps.json (the app items)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def close(self) -> None:
        return None

    def _json(self, relative: str, *, required: bool = True):
        path = self.root / relative
        if not path.is_file():
            if required:
                raise ArtifactError(f"{relative} is missing from {self.root}")
            return None
        try:
            raw = path.read_bytes()
            self.stats.bytes += len(raw)
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ArtifactError(f"{relative} is not valid JSON: {exc}")

    def _listing(self, relative: str, *, required: bool = True) -> Iterator[list[dict]]:
        body = self._json(relative, required=required)
        if body is None:
            return
        objects = body.get("data") if isinstance(body, dict) else body
        if not isinstance(objects, list):
            raise ArtifactError(f"{relative} holds neither a JSON array nor an object with a 'data' array")
        for index, obj in enumerate(objects):
            if not isinstance(obj, dict):
                raise ArtifactError(f"{relative}: entry {index} is not an object")
        yield objects

    @staticmethod
    def _file_stem(app_id: str) -> str:
        # App ids name files here: never let one climb out of the directory.
        if not app_id or "/" in app_id or "\\" in app_id or app_id.startswith("."):
            raise ArtifactError(f"app id {app_id!r} cannot name a file")
        return app_id

    def artifact_file_name(self, app_id: str) -> str:
        return self._items_file

    def parallel(self, function, arguments) -> list:
        return [function(argument) for argument in arguments]

    def me(self) -> dict:
        return {"name": f"the files in {self.root.name}"}

    def dataset_items(self):
        return self._listing("datasets.json", required=False)

    def spaces(self):
        return self._listing("spaces.json", required=False)

    def app_items(self):
        return self._listing(self._items_file)

    def data_connections(self):
        return self._listing("data-connections.json", required=False)

    def reloads(self):
        return self._listing("reloads.json", required=False)

    def audits(self, *, event_type: str, since: str, until: str):
        for page in self._listing("audits.json", required=False):
            yield [event for event in page if event.get("eventType", event_type) == event_type]

    def app_attributes(self, app_id: str) -> dict:
        body = self._json(f"apps/{self._file_stem(app_id)}.json", required=False)
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise ArtifactError(f"apps/{app_id}.json is not an object")
        return body.get("attributes", body)

    def app_script(self, app_id: str) -> str:
        plain = self.root / "scripts" / f"{self._file_stem(app_id)}.qvs"
        if plain.is_file():
            return plain.read_text(encoding="utf-8")
        body = self._json(f"scripts/{app_id}.json", required=False)
        if body is None:
            return ""
        if not isinstance(body, dict) or not isinstance(body.get("script"), str):
            raise ArtifactError(f"scripts/{app_id}.json has no 'script' string")
        return body["script"]

    def reload_metadata(self, app_id: str, reload_id: str) -> dict | None:
        return self._json(f"reload-metadata/{self._file_stem(app_id)}.json", required=False)

    def lineage_graph(self, qri: str, *, up: int = 5) -> dict | None:
        app_id = qri.rsplit("/", 1)[-1]
        body = self._json(f"lineage/{self._file_stem(app_id)}.json", required=False)
        if body is None:
            return None
        graph = body.get("graph", body) if isinstance(body, dict) else None
        if not isinstance(graph, dict) or not isinstance(graph.get("nodes", {}), dict):
            raise ArtifactError(f"lineage/{app_id}.json has no 'graph' whose nodes are a map")
        return graph

    def include_files(self) -> dict[str, str]:
        """Include files by the lib:// path scripts name them with."""
        root = self.root / "includes"
        if not root.is_dir():
            return {}
        return {
            "lib://" + path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(root.rglob("*"))
            if path.is_file()
        }
