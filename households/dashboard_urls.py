from django.urls import path

from households import dashboard_views

app_name = "dashboard"

urlpatterns = [
    path("dashboard/", dashboard_views.dashboard_page, name="page"),
    path("dashboard/export.csv", dashboard_views.dashboard_csv, name="csv"),
]
