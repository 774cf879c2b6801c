"""Route of /api/v1/health/."""

from rest_framework.routers import SimpleRouter

from health.api import views

app_name = "health-api"

router = SimpleRouter()
router.register("health", views.HealthViewSet, basename="health")
urlpatterns = router.urls
