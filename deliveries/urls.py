from django.urls import path

from deliveries import views

app_name = "deliveries"

urlpatterns = [
    path("cycles/", views.cycle_list, name="cycle_list"),
    path("cycles/<int:pk>/close/", views.cycle_close, name="cycle_close"),
    path("cycles/level-delivery-days/", views.delivery_days_level, name="delivery_days_level"),
    path("print/", views.print_index, name="print_index"),
    path("print/<int:cycle_id>/<slug:kind>/<str:place>/<str:date>/", views.print_list, name="print_list"),
    # handovers
    path("rounds/", views.round_page, name="round"),
    path("rounds/start/", views.round_start, name="round_start"),
    path("packages/find/", views.package_find, name="package_find"),
    path("packages/<int:pk>/delivered/", views.package_delivered, name="package_delivered"),
    path("packages/<int:pk>/not-delivered/", views.package_missed, name="package_missed"),
    path("handovers/<int:pk>/undo/", views.handover_undo, name="handover_undo"),
    path("lockdown-changes/<int:pk>/coverage/", views.change_coverage, name="change_coverage"),
    path("receiving/", views.receiving_page, name="receiving"),
    path("receiving/<int:pk>/", views.consignment_receive, name="consignment_receive"),
    path("cycles/<int:pk>/open/", views.reconciliation_page, name="reconciliation"),
    path("cycles/<int:pk>/complete/", views.cycle_complete, name="cycle_complete"),
    path("my/packages/", views.my_packages, name="my_packages"),
]
