from django.urls import path

from households import views, volunteer_views

app_name = "households"

urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/import/", views.household_import, name="import"),
    path("households/import/<int:pk>/", views.household_import_detail, name="import_detail"),
    path("compounds/", views.compound_list, name="compound_list"),
    path("compounds/<int:pk>/", views.compound_detail, name="compound_detail"),
    path("compounds/<int:pk>/level/", views.compound_set_level, name="compound_set_level"),
    path(
        "compounds/<int:pk>/level/<int:change_id>/cancel/", views.lockdown_change_cancel, name="lockdown_change_cancel"
    ),
    path("compounds/<int:pk>/cases/", views.compound_record_cases, name="compound_record_cases"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("schedule/", views.schedule_page, name="schedule"),
    path("registrations/", views.registration_list, name="registration_list"),
    path("registrations/<int:pk>/decide/", views.registration_decide, name="registration_decide"),
    path("volunteers/", volunteer_views.volunteer_list, name="volunteer_list"),
    path("volunteers/new/", volunteer_views.volunteer_new, name="volunteer_new"),
    path("volunteers/<int:pk>/decide/", volunteer_views.volunteer_decide, name="volunteer_decide"),
    path("volunteer/health/", volunteer_views.health_declare, name="health_declare"),
]
