from django.urls import path

from hotlines import apis

app_name = "hotlines_api"

urlpatterns: list = [
    path("hotline/calls/", apis.CallCreateApi.as_view(), name="calls"),
]
