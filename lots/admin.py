from django.contrib import admin

from lots.models import (
    AssetClass,
    Disposal,
    IdentityOverride,
    ImportBatch,
    Lot,
    Price,
    ReplacementChain,
    ReplacementChainEntry,
    ReplacementExclusion,
    ScheduledPurchase,
    Security,
    SecurityIndex,
    Transaction,
    WashSaleAdjustment,
)


class SecurityIndexInline(admin.TabularInline):
    model = SecurityIndex
    extra = 0


@admin.register(Security)
class SecurityAdmin(admin.ModelAdmin):
    list_display = ["ticker", "name", "asset_class", "verified"]
    list_filter = ["asset_class", "verified"]
    search_fields = ["ticker", "name"]
    inlines = [SecurityIndexInline]


class ChainEntryInline(admin.TabularInline):
    model = ReplacementChainEntry
    extra = 0


@admin.register(ReplacementChain)
class ReplacementChainAdmin(admin.ModelAdmin):
    list_display = ["asset_class", "household"]
    inlines = [ChainEntryInline]


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = ["trade_date", "seq", "account", "action", "security", "quantity", "price", "fees"]
    list_filter = ["action"]
    search_fields = ["security__ticker", "custodian_txn_id"]
    raw_id_fields = ["specific_lot"]


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ["account", "security", "quantity", "cost_basis", "acquired_date", "holding_period_start"]


@admin.register(Disposal)
class DisposalAdmin(admin.ModelAdmin):
    list_display = ["date_sold", "account", "security", "quantity", "proceeds", "cost_basis", "disallowed", "gain_loss"]
    list_filter = ["term", "tax_year", "reportable"]


admin.site.register(AssetClass, list_display=["code", "name"])
admin.site.register(IdentityOverride, list_display=["household", "security", "group", "created_by"])
admin.site.register(ReplacementExclusion, list_display=["household", "security", "reason"])
admin.site.register(WashSaleAdjustment, list_display=["disposal", "replacement", "quantity", "disallowed", "kind"])
admin.site.register(Price, list_display=["security", "date", "close", "source"])
admin.site.register(ScheduledPurchase, list_display=["account", "security", "kind", "frequency", "amount"])


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Uploads are previewed and committed through the import flow (audited), never edited here."""

    list_display = ["created_at", "household", "account", "file_name", "format", "status"]
    list_filter = ["status", "format"]
    exclude = ["content"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
