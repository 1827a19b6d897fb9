"""The REST API of harvest scans: start one (advisor) and follow it. The proposals it writes are read at
GET /api/households/<id>/proposals/ (harvester/api.py, the reporting API).

One view class per operation, small output serializers, money as decimal strings; every object is
fetched through the access layer (404 outside the caller's households).
"""

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import access_household
from harvester import scanning
from harvester.scan_views import access_scan


class ScanOut(serializers.Serializer):
    id = serializers.IntegerField()
    household = serializers.IntegerField(source="household_id", allow_null=True)
    as_of = serializers.DateField()
    status = serializers.CharField()
    households_total = serializers.IntegerField()
    households_done = serializers.IntegerField()
    proposals_created = serializers.IntegerField()
    proposals_superseded = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField(), help_text="{household, name?, ticker?, message}")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class HouseholdScanStart(APIView):
    """Start a scan of the household now (its advisor only). 202 with the scan to follow at /api/scans/<id>/.
    A scan of this household still queued or running is returned instead of a second one."""

    @extend_schema(request=None, responses={202: ScanOut})
    def post(self, request, household_id: int):
        household = access_household(request.user, household_id, manage=True)
        scan = scanning.scan_start(household=household, user=request.user, as_of=timezone.localdate())
        scan.refresh_from_db()
        return Response(ScanOut(scan).data, status=status.HTTP_202_ACCEPTED)


class ScanDetail(APIView):
    """A scan's status and counts (404 unless it is a scan of one of the caller's households)."""

    token_may_write = True  # it has no writes: a token's POST gets 405 (reporting/api_auth.py)

    @extend_schema(responses=ScanOut)
    def get(self, request, scan_id: int):
        return Response(ScanOut(access_scan(request.user, scan_id)).data)


urlpatterns = [
    path("households/<int:household_id>/scans/", HouseholdScanStart.as_view(), name="api-household-scans"),
    path("scans/<int:scan_id>/", ScanDetail.as_view(), name="api-scan"),
]
