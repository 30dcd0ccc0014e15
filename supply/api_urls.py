from django.urls import path

from supply import apis, money_apis

app_name = "supply_api"

urlpatterns: list = [
    path("catalog/", apis.CatalogApi.as_view(), name="catalog"),
    path("orders/", apis.OrderListCreateApi.as_view(), name="orders"),
    path("orders/<int:pk>/", apis.OrderDetailApi.as_view(), name="order"),
    path("orders/<int:pk>/cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<int:pk>/pay/", money_apis.OrderPayApi.as_view(), name="order-pay"),
]
