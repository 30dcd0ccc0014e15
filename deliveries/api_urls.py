from django.urls import path

from deliveries import apis

app_name = "deliveries_api"

urlpatterns = [
    path("statements/", apis.StatementsApi.as_view(), name="statements"),
]
