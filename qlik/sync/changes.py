"""What changed in the tenant since the previous successful sync: a change log per project.

The sync takes a compact state of the stored snapshot before it stores the new one and
again after (names, spaces, hashes — never payloads or secrets; a few small queries, no
API call), then records the differences as `QlikChange` rows in the same transaction, so
the log always matches the snapshot beside it. A resync that changed nothing records
nothing; the first sync of a project records one "initial snapshot" entry, not thousands
of additions. Storage grows with what changed, not with the size of the tenant.

Scripts: every distinct version of an app's script is kept once (`QlikScriptVersion`, by
SHA-256), first seen when a sync first stored it, last seen when a later one replaced it;
at most `QLIK_SCRIPT_VERSIONS_KEPT` superseded versions per app are kept.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import CharField, F, Func, OuterRef, Subquery
from django.db.models.functions import MD5

from atlas.iterables import batched
from customers.models import Project
from lineage.models import LineageEdge, LineageNode
from qlik.models import (
    QlikApp,
    QlikAppScript,
    QlikChange,
    QlikDataConnection,
    QlikDataset,
    QlikScriptVersion,
    QlikSpace,
    QlikSyncRun,
)

Kind = QlikChange.Kind
BATCH_SIZE = 1000


class SHA256(Func):
    """SHA-256 in hex with PostgreSQL's built-in sha256() (Django's needs pgcrypto)."""

    template = "encode(sha256(convert_to(%(expressions)s, 'UTF8')), 'hex')"
    output_field = CharField()


@dataclass
class ProjectState:
    """The little of a stored snapshot that says whether something changed."""

    apps: dict[str, tuple] = field(default_factory=dict)  # GUID -> (name, space id, published)
    scripts: dict[str, str] = field(default_factory=dict)  # GUID -> SHA-256
    connections: dict[str, tuple] = field(default_factory=dict)  # id -> (name, type, space, statement md5)
    datasets: dict[str, tuple] = field(default_factory=dict)  # id -> (name, kind, space id)
    edges: dict[str, tuple] | None = None  # md5 of edge id -> (source, target, relation); None: not read


def project_state_take(*, project: Project, edges: bool = True) -> ProjectState:
    """The state of what is stored now: five queries, small tuples, no payload."""
    state = ProjectState()
    state.apps = {
        app_id: (name, space, published)
        for app_id, name, space, published in QlikApp.objects.filter(project=project).values_list(
            "app_id", "appName", "spaceId", "published"
        )
    }
    state.scripts = dict(
        QlikAppScript.objects.filter(project=project)
        .annotate(digest=SHA256("script"))
        .values_list("app_id", "digest")
    )
    state.connections = {
        row[0]: row[1:]
        for row in QlikDataConnection.objects.filter(project=project)
        .annotate(statement=MD5("qConnectStatement"))
        .values_list("connection_id", "qName", "qType", "space", "statement")
    }
    state.datasets = {
        row[0]: row[1:]
        for row in QlikDataset.objects.filter(project=project).values_list(
            "dataset_id", "name", "resourceSubType", "spaceId"
        )
    }
    if edges:
        state.edges = {
            row[0]: row[1:]
            for row in LineageEdge.objects.filter(project=project)
            .annotate(digest=MD5("edge_id"))
            .values_list("digest", "source", "target", "relation")
        }
    return state


def _change(project, run, kind, object_id="", object_name="", before=None, after=None, **extra) -> QlikChange:
    return QlikChange(
        project=project,
        run=run,
        detected_at=run.started_at,
        kind=kind,
        object_id=object_id,
        object_name=object_name,
        before=before,
        after=after,
        **extra,
    )


def _space_names(project: Project) -> dict[str, str]:
    return dict(QlikSpace.objects.filter(project=project).values_list("space_id", "spaceName"))


def _app_changes(project, run, before: ProjectState, after: ProjectState, spaces) -> Iterable[QlikChange]:
    def space(space_id):
        return {"space_id": space_id, "space_name": spaces.get(space_id, "") if space_id else "Personal"}

    for guid in sorted(after.apps.keys() - before.apps.keys()):
        name, space_id, published = after.apps[guid]
        yield _change(project, run, Kind.APP_ADDED, guid, name, after={"name": name, **space(space_id)})
    for guid in sorted(before.apps.keys() - after.apps.keys()):
        name, space_id, _ = before.apps[guid]
        yield _change(project, run, Kind.APP_REMOVED, guid, name, before={"name": name, **space(space_id)})
    for guid in sorted(before.apps.keys() & after.apps.keys()):
        (old_name, old_space, old_published), (name, space_id, published) = (
            before.apps[guid],
            after.apps[guid],
        )
        if old_name != name:
            yield _change(
                project, run, Kind.APP_RENAMED, guid, name, before={"name": old_name}, after={"name": name}
            )
        if old_space != space_id:
            yield _change(
                project, run, Kind.APP_MOVED, guid, name, before=space(old_space), after=space(space_id)
            )
        if old_published != published and published is not None:
            yield _change(
                project,
                run,
                Kind.APP_PUBLISHED,
                guid,
                name,
                before={"published": old_published},
                after={"published": published},
            )


def _connection_changes(project, run, before: ProjectState, after: ProjectState) -> Iterable[QlikChange]:
    def shown(row):  # never the connect statement itself: it may carry credentials
        name, kind, space_id, _ = row
        return {"name": name, "type": kind, "space_id": space_id}

    for cid in sorted(after.connections.keys() - before.connections.keys()):
        row = after.connections[cid]
        yield _change(project, run, Kind.CONNECTION_ADDED, cid, row[0], after=shown(row))
    for cid in sorted(before.connections.keys() - after.connections.keys()):
        row = before.connections[cid]
        yield _change(project, run, Kind.CONNECTION_REMOVED, cid, row[0], before=shown(row))
    for cid in sorted(before.connections.keys() & after.connections.keys()):
        old, new = before.connections[cid], after.connections[cid]
        if old != new:
            fields = {**shown(new), "connect_statement_changed": old[3] != new[3]}
            yield _change(project, run, Kind.CONNECTION_CHANGED, cid, new[0], before=shown(old), after=fields)


def _dataset_changes(project, run, before: ProjectState, after: ProjectState) -> Iterable[QlikChange]:
    for did in sorted(after.datasets.keys() - before.datasets.keys()):
        name, kind, space_id = after.datasets[did]
        yield _change(
            project,
            run,
            Kind.DATASET_ADDED,
            did,
            name,
            after={"name": name, "kind": kind, "space_id": space_id},
        )
    for did in sorted(before.datasets.keys() - after.datasets.keys()):
        name, kind, space_id = before.datasets[did]
        yield _change(
            project,
            run,
            Kind.DATASET_REMOVED,
            did,
            name,
            before={"name": name, "kind": kind, "space_id": space_id},
        )


def _edge_changes(project, run, before: ProjectState, after: ProjectState) -> Iterable[QlikChange]:
    if before.edges is None or after.edges is None:  # the graph was kept: no edge changed
        return
    added = {digest: after.edges[digest] for digest in after.edges.keys() - before.edges.keys()}
    removed = {digest: before.edges[digest] for digest in before.edges.keys() - after.edges.keys()}
    labels: dict[str, str] = {}
    nodes = {node for source, target, _ in (*added.values(), *removed.values()) for node in (source, target)}
    for batch in batched(sorted(nodes), BATCH_SIZE):
        labels.update(
            LineageNode.objects.filter(project=project, node_id__in=batch).values_list("node_id", "label")
        )

    def described(kind, row):
        source, target, relation = row
        name = f"{labels.get(source) or source} → {labels.get(target) or target}"
        shown = {"source": source, "target": target, "relation": relation}
        sides = {"after": shown} if kind == Kind.EDGE_ADDED else {"before": shown}
        return _change(project, run, kind, f"{source}->{target}", name, **sides)

    for row in sorted(added.values()):
        yield described(Kind.EDGE_ADDED, row)
    for row in sorted(removed.values()):
        yield described(Kind.EDGE_REMOVED, row)


def _script_versions_store(*, project: Project, run: QlikSyncRun, app_ids: Iterable[str]) -> None:
    """Keep the current script of each of `app_ids` as a version (once per hash)."""
    for batch in batched(sorted(app_ids), BATCH_SIZE):
        scripts = QlikAppScript.objects.filter(project=project, app_id__in=batch).annotate(
            digest=SHA256("script")
        )
        QlikScriptVersion.objects.bulk_create(
            [
                QlikScriptVersion(
                    project=project,
                    app_id=app_id,
                    script_hash=digest,
                    script=script,
                    first_seen_at=run.started_at,
                )
                for app_id, script, digest in scripts.values_list("app_id", "script", "digest")
            ],
            ignore_conflicts=True,  # a version seen before (a script reverted) is kept once
        )
        # The current version of each app is the one with no last_seen_at; the others are past.
        current = Subquery(
            QlikAppScript.objects.filter(project=project, app_id=OuterRef("app_id"))
            .annotate(digest=SHA256("script"))
            .values("digest")[:1]
        )
        versions = QlikScriptVersion.objects.filter(project=project, app_id__in=batch).annotate(
            current=current
        )
        versions.filter(last_seen_at__isnull=True).exclude(script_hash=F("current")).update(
            last_seen_at=run.started_at
        )
        versions.filter(script_hash=F("current"), last_seen_at__isnull=False).update(last_seen_at=None)


def _script_versions_trim(*, project: Project, app_ids: set[str]) -> None:
    """At most QLIK_SCRIPT_VERSIONS_KEPT past versions per app: the newest."""
    kept = settings.QLIK_SCRIPT_VERSIONS_KEPT
    for batch in batched(sorted(app_ids), BATCH_SIZE):
        past = (
            QlikScriptVersion.objects.filter(project=project, app_id__in=batch, last_seen_at__isnull=False)
            .order_by("app_id", "-last_seen_at", "-row_id")
            .values_list("row_id", "app_id")
        )
        seen: dict[str, int] = {}
        doomed = []
        for row_id, app_id in past:
            seen[app_id] = seen.get(app_id, 0) + 1
            if seen[app_id] > kept:
                doomed.append(row_id)
        if doomed:
            QlikScriptVersion.objects.filter(project=project, row_id__in=doomed).delete()


def _script_changes(project, run, before: ProjectState, after: ProjectState) -> list[QlikChange]:
    changed = {
        guid
        for guid, digest in after.scripts.items()
        if guid in before.scripts and before.scripts[guid] != digest and guid in after.apps
    }
    fresh = {guid for guid in after.scripts if guid not in before.scripts}
    _script_versions_store(project=project, run=run, app_ids=changed | fresh)
    _script_versions_trim(project=project, app_ids=changed)
    versions = {
        (app_id, digest): row_id
        for app_id, digest, row_id in QlikScriptVersion.objects.filter(
            project=project, app_id__in=changed
        ).values_list("app_id", "script_hash", "row_id")
    }
    return [
        _change(
            project,
            run,
            Kind.SCRIPT_CHANGED,
            guid,
            after.apps[guid][0],
            before={"sha256": before.scripts[guid]},
            after={"sha256": after.scripts[guid]},
            script_from_id=versions.get((guid, before.scripts[guid])),
            script_to_id=versions.get((guid, after.scripts[guid])),
        )
        for guid in sorted(changed)
    ]


def changes_record(*, project: Project, run: QlikSyncRun, before: ProjectState, after: ProjectState) -> int:
    """Record what changed from `before` to `after` (the stored snapshot before and after
    this sync); returns how many changes. The first time, one "initial snapshot" entry."""
    if not QlikChange.objects.filter(project=project).exists():
        _script_versions_store(project=project, run=run, app_ids=after.scripts.keys())
        counts = {
            "apps": len(after.apps),
            "scripts": len(after.scripts),
            "data_connections": len(after.connections),
            "datasets": len(after.datasets),
        }
        QlikChange.objects.create(
            project=project, run=run, detected_at=run.started_at, kind=Kind.INITIAL_SNAPSHOT, after=counts
        )
        return 1
    spaces = _space_names(project)
    written = 0
    changes = [
        *_app_changes(project, run, before, after, spaces),
        *_script_changes(project, run, before, after),
        *_connection_changes(project, run, before, after),
        *_dataset_changes(project, run, before, after),
        *_edge_changes(project, run, before, after),
    ]
    for batch in batched(changes, BATCH_SIZE):
        QlikChange.objects.bulk_create(batch)
        written += len(batch)
    return written
