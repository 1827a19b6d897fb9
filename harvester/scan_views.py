"""Pages of harvest scans: "Scan now" with live progress, the household's proposals, one proposal explained.

Each view parses input, fetches through access_household, calls one service or selector and renders;
htmx gets the named partial of the same page (scans.html#panel, scan.html#status).
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.access import access_household
from accounts.models import Owner
from harvester import scanning
from harvester.models import OPEN_PROPOSAL_STATES, HarvestProposal, HarvestScan

RECENT_CLOSED = 20


def _proposals(household_id: int, *, open_only: bool):
    qs = HarvestProposal.objects.filter(household_id=household_id).select_related(
        "account", "sell_security", "buy_security", "scan"
    ).prefetch_related(Prefetch("account__owners", queryset=Owner.objects.order_by("name")))
    if open_only:
        return list(qs.filter(status__in=OPEN_PROPOSAL_STATES).order_by("-tax_value", "id"))
    return list(qs.exclude(status__in=OPEN_PROPOSAL_STATES).order_by("-updated_at", "-id")[:RECENT_CLOSED])


def _panel_context(household) -> dict:
    latest = HarvestScan.objects.filter(household=household).order_by("-created_at", "-id").first()
    return {
        "household": household,
        "scan": latest,
        "proposals": _proposals(household.pk, open_only=True),
        "can_scan": household.viewer_role == "advisor",
    }


@login_required
def household_scans(request, household_id):
    """GET: the household's latest scan and open proposals (htmx: the panel the household page loads).
    POST (advisor): start a scan of the household now."""
    if request.method == "POST":
        household = access_household(request.user, household_id, manage=True)
        scan = scanning.scan_start(household=household, user=request.user, as_of=timezone.localdate())
        if not request.htmx:
            return redirect("scan", scan_id=scan.pk)
        return render(request, "harvester/scans.html#panel", _panel_context(household))
    household = access_household(request.user, household_id)
    context = _panel_context(household)
    if request.htmx:
        return render(request, "harvester/scans.html#panel", context)
    context["closed"] = _proposals(household.pk, open_only=False)
    context["scans"] = HarvestScan.objects.filter(household=household).order_by("-created_at", "-id")[:10]
    return render(request, "harvester/scans.html", context)


def access_scan(user, scan_id) -> HarvestScan:
    """A scan of a household the caller belongs to (404 otherwise); a firm-wide scan: staff only."""
    try:
        scan = HarvestScan.objects.select_related("household", "started_by").get(pk=int(scan_id))
    except (HarvestScan.DoesNotExist, TypeError, ValueError):
        raise Http404("No such scan") from None
    if scan.household_id is None:
        if not user.is_staff:
            raise Http404("No such scan")
        scan.viewer_household = None
        return scan
    scan.viewer_household = access_household(user, scan.household_id)
    return scan


@login_required
def scan_detail(request, scan_id):
    """One scan's progress (htmx polls the status partial every second until it is done), then its results."""
    scan = access_scan(request.user, scan_id)
    household = scan.viewer_household
    done = scan.status in (HarvestScan.Status.DONE, HarvestScan.Status.FAILED)
    context = {
        "scan": scan,
        "household": household,
        "proposals": _proposals(household.pk, open_only=True) if done and household is not None else [],
        "can_scan": household is not None and household.viewer_role == "advisor",
    }
    if request.htmx:
        return render(request, "harvester/scan.html#status", context)
    return render(request, "harvester/scan.html", context)


@login_required
def proposal_detail(request, household_id, proposal_id):
    """One proposal in full: the trades, the figures, why, the checks, and what must be done first."""
    household = access_household(request.user, household_id)
    proposal = next(
        (p for p in HarvestProposal.objects.filter(pk=proposal_id, household=household).select_related(
            "account", "sell_security__asset_class", "buy_security", "scan", "policy"
        ).prefetch_related(Prefetch("account__owners", queryset=Owner.objects.order_by("name")))),
        None,
    )
    if proposal is None:
        raise Http404("No such proposal")
    return render(request, "harvester/proposal_detail.html", {"household": household, "p": proposal})
