from django.urls import path

from deliveries import views

app_name = "deliveries"

urlpatterns = [
    path("cycles/", views.cycle_list, name="cycle_list"),
    path("cycles/<int:pk>/close/", views.cycle_close, name="cycle_close"),
    path("cycles/level-delivery-days/", views.delivery_days_level, name="delivery_days_level"),
    path("print/", views.print_index, name="print_index"),
    path("print/<int:cycle_id>/<slug:kind>/<str:place>/<str:date>/", views.print_list, name="print_list"),
]
