"""Routes of /api/v1/customers/ and /api/v1/projects/."""

from rest_framework.routers import SimpleRouter

from customers.api import views

app_name = "customers-api"

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("projects", views.ProjectViewSet, basename="project")
urlpatterns = router.urls
