"""/api/v1/health/: the health board's rows for monitoring systems (staff tokens; RLS picks rows)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from atlas.api.docs import CSV_LIST, ERROR_RESPONSES, ERRORS_TOP
from atlas.api.views import RlsIdentityMixin
from health.api.serializers import ProjectHealthSerializer
from health.selectors import HealthState, project_health_list


class HealthViewSet(RlsIdentityMixin, viewsets.ViewSet):
    """Every project the caller may see, worst first (failing, stale, degraded, healthy)."""

    permission_classes = (permissions.IsAdminUser,)
    serializer_class = ProjectHealthSerializer

    @extend_schema(
        summary="List every project's health, worst first",
        description=(
            "For monitoring systems (a staff token): one row per project of every customer you may "
            "see, the rows of the admin's health board — last sync status and age, failed syncs in a "
            "row and the last error (a rejected key called so), the last run's problems, stale "
            "syncs, the reload failure rate and its trend, apps and spaces with their change since "
            "the previous sync, the age of the credentials — sorted failing, stale, degraded, "
            "healthy.\n\n**Filters:** `state=failing` (one of: "
            + ", ".join(HealthState.values)
            + "; another value is a 400), `customer=3` (a customer id).\n\n**Not paged:** every row "
            "at once.\n\n" + CSV_LIST + "\n\n" + ERRORS_TOP
        ),
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=HealthState.values, description="One state"),
            OpenApiParameter("customer", OpenApiTypes.INT, description="A customer's id"),
        ],
        responses={200: ProjectHealthSerializer(many=True), **ERROR_RESPONSES},
    )
    def list(self, request):
        unknown = set(request.query_params) - {"state", "customer", "format"}
        if unknown:
            raise ValidationError(
                {"detail": f"Unknown parameter: {', '.join(sorted(unknown))}. Takes state, customer."}
            )
        state = request.query_params.get("state")
        if state is not None and state not in HealthState.values:
            raise ValidationError({"state": f"{state} is not one of {', '.join(HealthState.values)}."})
        customer = request.query_params.get("customer")
        if customer is not None and not (customer.isascii() and customer.isdigit() and len(customer) < 19):
            raise ValidationError({"customer": f"{customer} is not a customer id."})
        rows = project_health_list(state=state, customer_id=int(customer) if customer else None)
        return Response(ProjectHealthSerializer(rows, many=True).data)

    def get_renderer_context(self):
        context = super().get_renderer_context()
        context["header"] = list(ProjectHealthSerializer().fields)
        return context
