"""Admin pages of the deliveries app, scoped like the pages (households.admin.ScopedAdmin).

Printed lists are made by services only: here they are looked at (and their files opened).
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from deliveries import rules
from deliveries.models import HandoverEvent, PrintDocument
from deliveries.printing import selectors as printing
from households.admin import ScopedAdmin


@admin.register(PrintDocument)
class PrintDocumentAdmin(ScopedAdmin):
    view_rule = rules.ADMIN_LOOK_LISTS
    list_display = ("title", "kind", "delivery_date", "rows", "generated_at", "superseded_at", "files")
    list_filter = ("kind", "delivery_date", ("superseded_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "place_key")
    date_hierarchy = "generated_at"
    list_select_related = ()
    readonly_fields = [field.name for field in PrintDocument._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind__in=printing.kinds_for(user=request.user))

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("files"))
    def files(self, obj: PrintDocument) -> str:
        url = reverse("deliveries:print_list", args=printing.key_of(obj).url_args())
        return format_html(
            '<a href="{}">{}</a> · <a href="{}?format=pdf">PDF</a> · <a href="{}?format=xlsx">XLSX</a>',
            url,
            _("page"),
            url,
            url,
        )


@admin.register(HandoverEvent)
class HandoverEventAdmin(ScopedAdmin):
    """The chain of custody, to look at: events are written by the handover services only, never changed."""

    view_rule = rules.ADMIN_LOOK
    list_display = (
        "at",
        "kind",
        "outcome",
        "package",
        "consignment",
        "delivery_date",
        "requeued_to",
        "by",
        "place",
        "location",
    )
    list_filter = ("kind", "outcome", "delivery_date")
    search_fields = ("package__code", "note", "location")
    date_hierarchy = "at"
    list_select_related = ("package", "consignment", "by")
    readonly_fields = [field.name for field in HandoverEvent._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
