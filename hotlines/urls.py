from django.urls import path

from hotlines import views
from hotlines.views import report

app_name = "hotlines"

urlpatterns = [
    path("hotline/", views.console, name="console"),
    path("hotline/calls/", views.call_log, name="call_log"),
    path("hotline/calls/new/", views.call_start, name="call_start"),
    path("hotline/calls/<int:pk>/", views.call, name="call"),
    path("hotline/calls/<int:pk>/household/", views.call_household, name="call_household"),
    path("hotline/calls/<int:pk>/ticket/", views.call_ticket, name="call_ticket"),
    path("hotline/calls/<int:pk>/finish/", views.call_finish, name="call_finish"),
    path("my/packages/<str:code>/report/", report.item_problem, name="item_problem"),
    path("tickets/", views.ticket_list, name="tickets"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/note/", views.ticket_note, name="ticket_note"),
    path("tickets/<int:pk>/resolve/", views.ticket_resolve, name="ticket_resolve"),
    path("hotline/price-complaints/", views.price_complaints, name="price_complaints"),
    path("compounds/unsealing/", views.unsealing_list, name="unsealing_list"),
    path("offline/", views.offline, name="offline"),
    path("offline/download/", views.offline_download, name="offline_download"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/alerts/", views.ledger_alerts, name="ledger_alerts"),
    path("ledger/<int:household_id>/", views.ledger_household, name="ledger_household"),
    path("ledger/<int:household_id>/checkin/", views.ledger_checkin, name="ledger_checkin"),
    path("ledger/<int:household_id>/cadence/", views.ledger_cadence, name="ledger_cadence"),
    path("ledger/<int:household_id>/standing/", views.ledger_standing_add, name="ledger_standing_add"),
    path("ledger/<int:household_id>/standing/<int:pk>/stop/", views.ledger_standing_stop, name="ledger_standing_stop"),
    path("ledger/<int:household_id>/order/", views.ledger_assisted_order, name="ledger_assisted_order"),
]
