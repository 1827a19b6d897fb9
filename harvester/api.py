"""The REST API for reporting tools: read-only, every object fetched through the access layer.

One view class per operation; small output serializers; money as decimal strings.
"""

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.parsers import MultiPartParser
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


class DisposalOut(serializers.Serializer):
    owners = serializers.CharField()
    part = serializers.CharField()
    box = serializers.CharField()
    description = serializers.CharField()
    date_acquired = serializers.DateField()
    date_sold = serializers.DateField()
    proceeds = serializers.DecimalField(max_digits=16, decimal_places=2)
    cost_basis = serializers.DecimalField(max_digits=16, decimal_places=2)
    code = serializers.CharField(allow_blank=True)
    adjustment = serializers.CharField(allow_blank=True, help_text="Disallowed wash-sale loss, positive; blank if none.")
    gain_loss = serializers.DecimalField(max_digits=16, decimal_places=2)
    tax_year = serializers.IntegerField()
    account = serializers.IntegerField()
    account_name = serializers.CharField()
    ticker = serializers.CharField()
    sell_trade = serializers.IntegerField()
    buy_trade = serializers.IntegerField()


class YearTotalsOut(serializers.Serializer):
    owners = serializers.CharField()
    tax_year = serializers.IntegerField()
    proceeds = serializers.DecimalField(max_digits=16, decimal_places=2)
    cost_basis = serializers.DecimalField(max_digits=16, decimal_places=2)
    wash_sale_disallowed = serializers.DecimalField(max_digits=16, decimal_places=2)
    short_term_gain_loss = serializers.DecimalField(max_digits=16, decimal_places=2)
    long_term_gain_loss = serializers.DecimalField(max_digits=16, decimal_places=2)
    deferred = serializers.DecimalField(max_digits=16, decimal_places=2)
    permanent = serializers.DecimalField(max_digits=16, decimal_places=2)


class HouseholdForm8949(APIView):
    """Form 8949 rows (reportable sales) of the household for `?year=` (all years if omitted)."""

    @extend_schema(
        responses=DisposalOut(many=True),
        parameters=[OpenApiParameter("year", int, required=False, description="Tax year")],
    )
    def get(self, request, household_id: int):
        household = access_household(request.user, household_id)
        year = request.query_params.get("year")
        if year is not None and not year.isdigit():
            raise ValidationError({"year": "must be a year such as 2026"})
        rows = [
            {**row, "owners": group.label}
            for group in selectors.realized(household, year=int(year) if year else None)
            for row in group.rows
        ]
        return Response(DisposalOut(rows, many=True).data)


class HouseholdRealizedTotals(APIView):
    """Realized gains and losses per owner group and tax year, with wash-sale amounts deferred and lost."""

    @extend_schema(responses=YearTotalsOut(many=True))
    def get(self, request, household_id: int):
        household = access_household(request.user, household_id)
        rows = [
            {"owners": group.label, "tax_year": year, **totals}
            for group in selectors.realized(household)
            for year, totals in group.totals.items()
        ]
        return Response(YearTotalsOut(rows, many=True).data)


class ReconcileIn(serializers.Serializer):
    account = serializers.IntegerField(help_text="Our taxable account the broker report is for.")
    report = serializers.FileField(help_text="The broker's realized gain/loss CSV (generic or Schwab).")


class ReconcileRowOut(serializers.Serializer):
    status = serializers.CharField()
    ticker = serializers.CharField()
    date_sold = serializers.DateField()
    date_acquired = serializers.DateField(allow_null=True)
    engine_qty = serializers.DecimalField(max_digits=20, decimal_places=8)
    broker_qty = serializers.DecimalField(max_digits=20, decimal_places=8)
    broker_disallowed = serializers.DecimalField(max_digits=16, decimal_places=2)
    engine_disallowed = serializers.DecimalField(max_digits=16, decimal_places=2)
    additional_disallowed = serializers.DecimalField(max_digits=16, decimal_places=2)
    reasons = serializers.ListField(child=serializers.CharField())
    broker_lines = serializers.ListField(child=serializers.IntegerField())


class ReconcileOut(serializers.Serializer):
    account = serializers.IntegerField()
    format = serializers.CharField()
    additional_disallowed = serializers.DecimalField(max_digits=16, decimal_places=2)
    rows = ReconcileRowOut(many=True)


class HouseholdReconcile(APIView):
    """Compare a broker's realized gain/loss report with the household engine (nothing is stored)."""

    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": ReconcileIn}, responses=ReconcileOut)
    def post(self, request, household_id: int):
        from lots.reconciliation import UploadError, reconcile_upload

        household = access_household(request.user, household_id)
        data = ReconcileIn(data=request.data)
        data.is_valid(raise_exception=True)
        account = household.accounts.filter(pk=data.validated_data["account"]).first()
        if account is None:
            raise ValidationError({"account": "no such account in this household"})
        try:
            view = reconcile_upload(account=account, upload=data.validated_data["report"])
        except UploadError as exc:
            raise ValidationError({"report": str(exc)}) from None
        out = {
            "account": account.pk,
            "format": view.report.format,
            "additional_disallowed": view.result.additional_disallowed,
            "rows": view.result.rows,
        }
        return Response(ReconcileOut(out).data)


urlpatterns = [
    path("households/", HouseholdList.as_view(), name="api-households"),
    path("households/<int:household_id>/", HouseholdDetail.as_view(), name="api-household"),
    path("households/<int:household_id>/lots/", HouseholdLots.as_view(), name="api-household-lots"),
    path("households/<int:household_id>/form8949/", HouseholdForm8949.as_view(), name="api-household-8949"),
    path("households/<int:household_id>/realized/", HouseholdRealizedTotals.as_view(), name="api-household-realized"),
    path("households/<int:household_id>/reconcile/", HouseholdReconcile.as_view(), name="api-household-reconcile"),
]
