from django.urls import path

from deliveries import views
from deliveries.views import cash, statements, teams, volunteers

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
    path("cash/", cash.cash_page, name="cash"),
    path("statements/", statements.statements_page, name="statements"),
    path("statements/export.<slug:fmt>", statements.statements_export, name="statements_export"),
    path("cash/confirm/", cash.cash_confirm, name="cash_confirm"),
    # volunteers: the worker's pages
    path("teams/", teams.team_list, name="teams"),
    path("teams/new/", teams.team_new, name="team_new"),
    path("teams/<int:pk>/members/", teams.team_member, name="team_member"),
    path("teams/shifts/", teams.shift_board, name="shift_board"),
    path("teams/shifts/new/", teams.shift_new, name="shift_new"),
    path("teams/shifts/<int:pk>/call/", teams.shift_call, name="shift_call"),
    path("teams/rounds/", teams.team_rounds, name="team_rounds"),
    path("teams/rounds/split/", teams.rounds_split, name="rounds_split"),
    path("teams/rounds/move/", teams.round_move, name="round_move"),
    path("teams/record/", teams.service_record, name="service_record"),
    # volunteers: the volunteer's pages
    path("volunteer/shifts/", volunteers.volunteer_shifts, name="volunteer_shifts"),
    path("volunteer/shifts/<int:pk>/sign-up/", volunteers.volunteer_signup, name="volunteer_signup"),
    path("volunteer/shifts/<int:pk>/cancel/", volunteers.volunteer_cancel, name="volunteer_cancel"),
    path("volunteer/round/", volunteers.volunteer_round, name="volunteer_round"),
    path("volunteer/record/", volunteers.volunteer_record, name="volunteer_record"),
]
