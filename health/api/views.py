"""/api/v1/health/: the health board's rows for monitoring systems (staff tokens; RLS picks rows)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, viewsets
from rest_framework.response import Response

from atlas.api.views import RlsIdentityMixin
from health.api.serializers import ProjectHealthSerializer
from health.selectors import HealthState, project_health_list


class HealthViewSet(RlsIdentityMixin, viewsets.ViewSet):
    """Every project the caller may see, worst first (failing, stale, degraded, healthy)."""

    permission_classes = (permissions.IsAdminUser,)
    serializer_class = ProjectHealthSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=HealthState.values),
            OpenApiParameter("customer", OpenApiTypes.INT),
        ],
        responses=ProjectHealthSerializer(many=True),
    )
    def list(self, request):
        state = request.query_params.get("state")
        customer = request.query_params.get("customer", "")
        rows = project_health_list(
            state=state if state in HealthState.values else None,
            customer_id=int(customer) if customer.isdigit() else None,
        )
        return Response(ProjectHealthSerializer(rows, many=True).data)

    def get_renderer_context(self):
        context = super().get_renderer_context()
        context["header"] = list(ProjectHealthSerializer().fields)
        return context
