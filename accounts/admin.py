from django.contrib import admin

from accounts.models import (
    Account,
    Household,
    Membership,
    Owner,
    OwnerTaxProfile,
    TargetAllocation,
    TaxpayerUnit,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["name", "history_complete_from", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Owner)
class OwnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "household", "taxpayer_unit", "user"]
    list_filter = ["kind"]
    filter_horizontal = ["trustees"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "household", "custodian", "number_masked", "lot_method"]
    list_filter = ["kind"]
    filter_horizontal = ["owners"]


admin.site.register(Membership, list_display=["user", "household", "role"])
admin.site.register(TaxpayerUnit, list_display=["name", "household"])
admin.site.register(OwnerTaxProfile, list_display=["owner", "year", "filing_status", "ordinary_income"])
admin.site.register(TargetAllocation, list_display=["household", "asset_class", "weight_percent"])
