from django.urls import path

app_name = "supply_api"

urlpatterns: list = []
