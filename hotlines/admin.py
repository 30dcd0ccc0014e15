from django.contrib import admin

from hotlines import rules
from hotlines.models import Call, CheckIn, Ticket, TicketEvent
from households.admin import ScopedAdmin


class ReadOnlyLog(ScopedAdmin):
    """Calls, tickets and check-ins are written through their pages (services keep the trail);
    the admin shows them to staff in scope and lets administrators correct a mistake."""

    view_rule = rules.ADMIN_LOOK


@admin.register(Call)
class CallAdmin(ReadOnlyLog):
    list_display = ("started_at", "district", "operator", "caller_number", "household", "category", "outcome")
    list_filter = ("category", "outcome", "district")
    search_fields = ("caller_number", "summary")
    list_select_related = ("district", "operator", "household__building__compound")
    raw_id_fields = ("household",)
    date_hierarchy = "started_at"


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "level", "by", "note", "at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyLog):
    list_display = ("id", "category", "priority", "status", "level", "due_at", "household", "community")
    list_filter = ("status", "category", "level", "priority")
    search_fields = ("summary", "destination")
    list_select_related = ("household__building__compound", "community")
    raw_id_fields = ("household", "call")
    inlines = [TicketEventInline]


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyLog):
    list_display = ("at", "household", "worker", "kind", "outcome")
    list_filter = ("kind", "outcome")
    list_select_related = ("household__building__compound", "worker")
    raw_id_fields = ("household",)
