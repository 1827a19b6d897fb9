from django.contrib import admin

from harvester.models import (
    Approval,
    AuditEvent,
    Execution,
    HarvestPolicy,
    HarvestProposal,
    HarvestScan,
    Notification,
    PolicyAcknowledgment,
    ProposalComment,
    ScanChunk,
)


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



class ReadOnlyAdmin(admin.ModelAdmin):
    """State changes of money and authority go through services (audited), never through the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HarvestProposal)
class HarvestProposalAdmin(ReadOnlyAdmin):
    list_display = ["id", "household", "kind", "status", "account", "sell_security", "buy_security", "created_at"]
    list_filter = ["status", "kind"]


@admin.register(HarvestScan)
class HarvestScanAdmin(ReadOnlyAdmin):
    list_display = ["id", "household", "status", "as_of", "households_done", "households_total", "created_at"]


admin.site.register(ScanChunk, ReadOnlyAdmin, list_display=["scan", "index", "status", "attempts"])
admin.site.register(Approval, ReadOnlyAdmin, list_display=["proposal", "proposal_version", "owner", "user", "decision", "at"])
admin.site.register(ProposalComment, ReadOnlyAdmin, list_display=["proposal", "user", "at"])
admin.site.register(Execution, ReadOnlyAdmin, list_display=["proposal", "method", "executed_by", "executed_at"])
admin.site.register(Notification, list_display=["user", "kind", "subject", "created_at", "read_at"])
