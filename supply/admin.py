from django.contrib import admin

from households.admin import ScopedAdmin
from households.models import Role
from supply.models import Supplier


@admin.register(Supplier)
class SupplierAdmin(ScopedAdmin):
    list_display = ("name", "contact_name", "phone", "is_whitelisted")
    list_filter = ("is_whitelisted",)
    search_fields = ("name",)
    view_roles = (Role.SUPPLIER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.WORKER)
    edit_roles = (Role.TASKFORCE,)
