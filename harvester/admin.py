from django.contrib import admin

from harvester.models import AuditEvent, HarvestPolicy, PolicyAcknowledgment


@admin.register(HarvestPolicy)
class HarvestPolicyAdmin(admin.ModelAdmin):
    list_display = ["household", "version", "min_loss_amount", "min_loss_percent", "scope", "created_at"]


admin.site.register(PolicyAcknowledgment, list_display=["policy", "owner", "user", "at"])


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["at", "action", "actor", "household", "object_type", "object_id", "summary"]
    list_filter = ["action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
