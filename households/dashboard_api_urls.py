from django.urls import path

from households import dashboard_apis

app_name = "dashboard_api"

urlpatterns = [
    path("dashboard/", dashboard_apis.DashboardApi.as_view(), name="dashboard"),
]
