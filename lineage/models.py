"""The lineage graph per project: nodes (apps, connections, tables, files) and edges."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models

from customers.models import ProjectScopedModel


class LineageNode(ProjectScopedModel):
    """A thing data flows through: an app, a data connection, a table or a file."""

    class NodeType(models.TextChoices):
        APP = "app", "App"
        CONNECTION = "connection", "Data connection"
        TABLE = "table", "Database table"
        FILE = "file", "File"
        UNRESOLVED = "unresolved", "Unresolved"

    node_id = models.CharField(max_length=500)
    type = models.CharField(max_length=32, choices=NodeType.choices)
    label = models.TextField(blank=True)
    app_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        db_table = "lineage_nodes"
        verbose_name = "lineage node"
        constraints = [
            models.UniqueConstraint(fields=("project", "node_id"), name="lineage_nodes_project_node_uniq")
        ]
        indexes = [
            GinIndex(fields=["label"], opclasses=["gin_trgm_ops"], name="lineage_nodes_label_trgm"),
            GinIndex(SearchVector("label", config="simple"), name="lineage_nodes_label_fts"),
        ]

    def __str__(self) -> str:
        return self.label or self.node_id


class LineageEdge(ProjectScopedModel):
    """Data flowing from `source` to `target` (both node ids of the same project)."""

    edge_id = models.CharField(max_length=1100)
    source = models.CharField(max_length=500)
    target = models.CharField(max_length=500)
    relation = models.CharField(max_length=32, blank=True)

    class Meta:
        db_table = "lineage_edges"
        verbose_name = "lineage edge"
        constraints = [
            models.UniqueConstraint(fields=("project", "edge_id"), name="lineage_edges_project_edge_uniq")
        ]
        indexes = [
            models.Index(fields=("project", "source"), name="lineage_edges_project_source"),
            models.Index(fields=("project", "target"), name="lineage_edges_project_target"),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"
