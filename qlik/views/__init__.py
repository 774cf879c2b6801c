"""The consultants' pages, one module per subject; `project_or_404` for the other apps."""

from qlik.views.common import project_or_404

__all__ = ["project_or_404"]
