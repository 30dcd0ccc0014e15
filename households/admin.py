from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from core.phones import InvalidPhone, phone_normalize
from core.pinyin import pinyin_initials
from households import access, rules, services
from households.access import restrict, scope_q
from households.models import (
    Building,
    Community,
    Compound,
    District,
    Household,
    HouseholdImport,
    HouseholdPhone,
    HouseholdViewLog,
    LockdownChange,
    Notification,
    Office,
    ResidentRegistration,
    User,
)
from households.permissions import allows


class ScopedAdmin(admin.ModelAdmin):
    """Admin pages narrowed by households.access, with permissions by named rule instead of
    per-user grants: ``view_rule`` may look, ``edit_rule`` may add, change and delete (both
    declared in the apps' rules.py; administrators are in every one)."""

    view_rule: str = rules.ADMIN_LOOK
    edit_rule: str = rules.ADMIN_ONLY

    def _staff(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        allowed = self._staff(request) and (
            allows(request.user, self.view_rule) or allows(request.user, self.edit_rule)
        )
        return allowed and (obj is None or self._in_scope(request, obj))

    def _can_edit(self, request, obj=None) -> bool:
        allowed = self._staff(request) and allows(request.user, self.edit_rule)
        return allowed and (obj is None or self._in_scope(request, obj))

    def has_add_permission(self, request, obj=None) -> bool:
        return self._can_edit(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._can_edit(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._can_edit(request, obj)

    def _in_scope(self, request, obj) -> bool:
        return restrict(type(obj)._default_manager.filter(pk=obj.pk), request.user).exists()

    def get_queryset(self, request):
        return restrict(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            try:
                q = scope_q(request.user, field.queryset.model)
            except LookupError:
                q = None
            if q is not None:
                field.queryset = field.queryset.filter(q)
        return field


class ScopedInline(admin.TabularInline):
    extra = 0

    def _parent_admin_allows(self, request, obj) -> bool:
        return allows(request.user, rules.ADMIN_EDIT_HOUSEHOLDS) and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_staff

    def has_add_permission(self, request, obj=None) -> bool:
        return self._parent_admin_allows(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._parent_admin_allows(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._parent_admin_allows(request, obj)


@admin.register(District)
class DistrictAdmin(ScopedAdmin):
    list_display = ("name", "code", "hotline")
    search_fields = ("name", "code")


@admin.register(Office)
class OfficeAdmin(ScopedAdmin):
    list_display = ("name", "code", "district")
    list_filter = ("district",)
    search_fields = ("name", "code")


@admin.register(Community)
class CommunityAdmin(ScopedAdmin):
    list_display = ("name", "code", "office", "receiving_point")
    list_filter = ("office__district",)
    search_fields = ("name", "code")
    list_select_related = ("office",)
    edit_rule = rules.ADMIN_EDIT_PLACES


@admin.register(Compound)
class CompoundAdmin(ScopedAdmin):
    list_display = ("name", "code", "community", "lockdown_level", "delivery_day")
    list_filter = ("lockdown_level", "delivery_day", "community__office__district")
    search_fields = ("name", "code", "initials")
    list_select_related = ("community",)
    # Level changes go through the compound page, which keeps the history.
    readonly_fields = ("lockdown_level", "initials")
    edit_rule = rules.ADMIN_EDIT_PLACES

    def save_model(self, request, obj, form, change):
        obj.initials = pinyin_initials(obj.name)
        super().save_model(request, obj, form, change)


@admin.register(Building)
class BuildingAdmin(ScopedAdmin):
    list_display = ("number", "compound", "lockdown_level")
    list_filter = ("lockdown_level",)
    search_fields = ("number", "compound__name")
    list_select_related = ("compound",)
    readonly_fields = ("lockdown_level",)
    raw_id_fields = ("compound",)
    edit_rule = rules.ADMIN_EDIT_BUILDINGS


@admin.register(LockdownChange)
class LockdownChangeAdmin(ScopedAdmin):
    list_display = ("changed_at", "compound", "building", "from_level", "to_level", "reason", "changed_by")
    list_select_related = ("compound", "building__compound", "changed_by")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # history is never edited

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class HouseholdPhoneForm(forms.ModelForm):
    class Meta:
        model = HouseholdPhone
        fields = ("number", "is_primary")

    def clean_number(self):
        try:
            return phone_normalize(self.cleaned_data["number"])
        except InvalidPhone as exc:
            raise forms.ValidationError(exc.message) from None


class HouseholdPhoneInline(ScopedInline):
    model = HouseholdPhone
    form = HouseholdPhoneForm


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ("__str__", "contact_name", "members", "population_type", "assigned_worker")
    list_filter = ("population_type", "elderly_alone", "disabled", "pregnant", "chronic_medicine", "dialysis")
    search_fields = ("contact_name", "phones__number", "building__compound__name")
    list_select_related = ("building__compound", "assigned_worker")
    raw_id_fields = ("building",)
    inlines = [HouseholdPhoneInline]
    edit_rule = rules.ADMIN_EDIT_HOUSEHOLDS
    CARE_FIELDS = ("elderly_alone", "disabled", "pregnant", "chronic_medicine", "dialysis", "care_note")

    def get_exclude(self, request, obj=None):
        """Care flags are for the household's community and the hotline (households.access.sees_care)."""
        excluded = tuple(super().get_exclude(request, obj) or ())
        return excluded if access.sees_care(request.user) else excluded + self.CARE_FIELDS

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        return filters if access.sees_care(request.user) else tuple(f for f in filters if f not in self.CARE_FIELDS)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and getattr(response, "status_code", None) == 200 and str(object_id).isdigit():
            services.household_view_record(user=request.user, household_id=int(object_id), where="admin")
        return response


@admin.register(ResidentRegistration)
class ResidentRegistrationAdmin(ScopedAdmin):
    list_display = ("phone", "contact_name", "building", "unit", "room", "status", "created_at")
    list_filter = ("status",)
    list_select_related = ("building__compound",)
    exclude = ("password_hash",)
    readonly_fields = ("status", "decided_by", "decided_at", "user")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(HouseholdImport)
class HouseholdImportAdmin(ScopedAdmin):
    list_display = ("filename", "community", "status", "created_count", "updated_count", "rejected_count", "created_at")
    list_filter = ("status",)
    exclude = ("content",)
    readonly_fields = ("report",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Accounts are managed by administrators only."""

    list_display = ("username", "last_name", "first_name", "role", "phone", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "phone", "first_name", "last_name")
    raw_id_fields = ("household",)
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            _("Role and scope"),
            {"fields": ("role", "phone", "household", "community", "office", "district", "supplier")},
        ),
    )

    def _is_admin(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and allows(request.user, rules.ADMIN_ONLY)

    def has_module_permission(self, request) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._is_admin(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._is_admin(request)

    def has_add_permission(self, request) -> bool:
        return self._is_admin(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._is_admin(request)


@admin.register(Notification)
class NotificationAdmin(ScopedAdmin):
    """What residents were told, and every text message that failed (never lost silently)."""

    list_display = ("created_at", "household", "kind", "sms_status", "sms_attempts", "sms_error")
    list_filter = ("kind", "sms_status")
    list_select_related = ("household__building__compound",)
    readonly_fields = (
        "household",
        "kind",
        "key",
        "params",
        "created_at",
        "read_at",
        "sms_status",
        "sms_phone",
        "sms_attempts",
        "sms_next_at",
        "sms_sent_at",
        "sms_error",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(HouseholdViewLog)
class HouseholdViewLogAdmin(ScopedAdmin):
    """Who opened which household's details (audit log): read by admins, written by the pages."""

    view_rule = rules.ADMIN_ONLY
    list_display = ("viewed_at", "household", "viewed_by", "role", "where")
    list_filter = ("role", "where")
    list_select_related = ("household__building__compound", "viewed_by")
    date_hierarchy = "viewed_at"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
