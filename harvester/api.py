"""The REST API for reporting tools: read-only, every object fetched through the access layer.

One view class per operation; small output serializers; money as decimal strings.
"""

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import access_household, households_for
from accounts.models import Account, Household, Owner
from lots import selectors


class OwnerOut(serializers.ModelSerializer):
    taxpayer_unit = serializers.CharField(source="taxpayer_unit.name")

    class Meta:
        model = Owner
        fields = ["id", "name", "kind", "taxpayer_unit"]


class AccountOut(serializers.ModelSerializer):
    owners = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Account
        fields = ["id", "name", "custodian", "number_masked", "kind", "owners", "lot_method"]


class HouseholdOut(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = ["id", "name", "history_complete_from"]


class HouseholdDetailOut(HouseholdOut):
    owners = OwnerOut(many=True, read_only=True)
    accounts = AccountOut(many=True, read_only=True)

    class Meta(HouseholdOut.Meta):
        fields = [*HouseholdOut.Meta.fields, "owners", "accounts"]


class LotOut(serializers.Serializer):
    id = serializers.IntegerField(source="lot.id")
    account = serializers.IntegerField(source="lot.account_id")
    ticker = serializers.CharField(source="lot.security.ticker")
    quantity = serializers.DecimalField(source="lot.quantity", max_digits=20, decimal_places=8)
    cost_basis = serializers.DecimalField(source="lot.cost_basis", max_digits=16, decimal_places=2)
    wash_sale_adjustment = serializers.DecimalField(
        source="lot.wash_sale_adjustment", max_digits=16, decimal_places=2
    )
    acquired_date = serializers.DateField(source="lot.acquired_date")
    holding_period_start = serializers.DateField(source="lot.holding_period_start")
    origin_transaction = serializers.IntegerField(source="lot.origin_id")
    price = serializers.DecimalField(source="quote.close", max_digits=16, decimal_places=6, allow_null=True)
    price_date = serializers.DateField(source="quote.date", allow_null=True)
    market_value = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    unrealized = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    term = serializers.CharField()


class HouseholdList(ListAPIView):
    """The households the caller belongs to or advises."""

    serializer_class = HouseholdOut

    def get_queryset(self):
        return households_for(self.request.user).order_by("name", "id")


class HouseholdDetail(RetrieveAPIView):
    """One household with its owners and accounts (404 outside the caller's households)."""

    serializer_class = HouseholdDetailOut

    def get_object(self):
        return access_household(self.request.user, self.kwargs["household_id"])


class HouseholdLots(APIView):
    """Every open lot of the household, valued at the latest price, with its term if sold today."""

    @extend_schema(responses=LotOut(many=True))
    def get(self, request, household_id: int):
        household = access_household(request.user, household_id)
        views = selectors.household_lots(household, as_of=timezone.localdate())
        return Response(LotOut(views, many=True).data)


urlpatterns = [
    path("households/", HouseholdList.as_view(), name="api-households"),
    path("households/<int:household_id>/", HouseholdDetail.as_view(), name="api-household"),
    path("households/<int:household_id>/lots/", HouseholdLots.as_view(), name="api-household-lots"),
]
