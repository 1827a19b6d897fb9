"""Small builders for approval tests: an acknowledged policy, and proposals over real lots.

A proposal is built the way a scan would leave it: real buy trades, a ledger recompute so the lots
exist, today's closes, and the lots relieved by specific identification.
"""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from harvester.models import HarvestPolicy, HarvestProposal, PolicyAcknowledgment
from harvester.money import to_cents
from lots.ledger import ledger_recompute
from lots.models import Lot, Price, Security


def acknowledged_policy(world, *, acknowledged: bool = True, **terms) -> HarvestPolicy:
    """The household's next policy version, acknowledged by every owner (trust: by its trustee Taylor)."""
    newest = HarvestPolicy.objects.filter(household=world.household).aggregate(v=Max("version"))["v"] or 0
    policy = HarvestPolicy.objects.create(household=world.household, version=newest + 1, created_by=world.advisor, **terms)
    if acknowledged:
        for owner, user in [(world.alex_owner, world.alex), (world.jordan_owner, world.jordan), (world.trust_owner, world.taylor)]:
            PolicyAcknowledgment.objects.create(policy=policy, owner=owner, user=user)
    return policy


def tax_profiles(world) -> None:
    """This year's tax profiles, so a proposal's tax value can be computed (and re-checked)."""
    from accounts.models import OwnerTaxProfile

    year = timezone.localdate().year
    for owner, status in [(world.alex_owner, "mfj"), (world.jordan_owner, "mfj"), (world.trust_owner, "trust")]:
        OwnerTaxProfile.objects.get_or_create(
            owner=owner, year=year,
            defaults={"filing_status": status, "ordinary_income": Decimal("150000"), "state_rate": Decimal("5")},
        )


def close(ticker: str, day, price: str) -> None:
    Price.objects.update_or_create(security=Security.objects.get(ticker=ticker), date=day, defaults={"close": Decimal(price)})


def make_proposal(
    world,
    account,
    *,
    ticker: str = "VTI",
    buy: str = "ITOT",
    lots=(("100", "200"),),
    price: str = "180",
    status: str = "awaiting_approval",
    policy: HarvestPolicy | None = None,
    expires_in: timedelta | None = timedelta(days=5),
) -> HarvestProposal:
    """Buy `lots` [(quantity, price)] about 200 days ago, recompute the ledger, and propose selling them
    all at `price` (today's close) to buy `buy` with the proceeds."""
    tax_profiles(world)
    today = timezone.localdate()
    base = 200 + HarvestProposal.objects.count() * 3
    trades = [
        world.trade(account, ticker, today - timedelta(days=base + i), "buy", quantity, cost)
        for i, (quantity, cost) in enumerate(lots)
    ]
    close(ticker, today, price)
    close(buy, today, "100")
    ledger_recompute(household_id=world.household.pk)
    entries, basis = [], Decimal("0")
    for trade in trades:
        lot = Lot.objects.get(origin=trade)
        basis += lot.cost_basis
        entries.append({
            "lot": lot.pk, "origin": str(trade.pk), "quantity": str(lot.quantity), "basis": str(lot.cost_basis),
            "price": price, "acquired": trade.trade_date.isoformat(), "term": "short",
        })
    quantity = sum((Decimal(q) for q, _ in lots), Decimal("0"))
    proceeds = to_cents(quantity * Decimal(price))
    loss = basis - proceeds
    proposal = HarvestProposal.objects.create(
        household=world.household,
        account=account,
        policy=policy,
        status=status,
        fingerprint=f"{account.pk}:{ticker}:{','.join(str(t.pk) for t in trades)}:{buy}",
        sell_security=Security.objects.get(ticker=ticker),
        buy_security=Security.objects.get(ticker=buy),
        lots=entries,
        sell_quantity=quantity,
        price=Decimal(price),
        price_date=today,
        proceeds=proceeds,
        cost_basis=basis,
        loss_short_term=loss,
        tax_value=to_cents(loss * Decimal("0.30")),
        trading_cost=Decimal("3.00"),
        buy_amount=proceeds,
        checks=[{"name": "no_recent_purchase", "title": f"No purchase of {ticker}'s index in the last 30 days",
                 "passed": True, "detail": "None anywhere in the household."}],
        required_actions=[],
        explanation={"why_lots": f"These {ticker} shares are worth less than they cost.",
                     "why_account": f"{account.name} is taxable.",
                     "why_replacement": f"{buy} tracks a different index in the same asset class."},
        expires_at=(timezone.now() + expires_in) if expires_in is not None and status != "proposed" else None,
    )
    if status in ("approved", "executed"):  # as its approvers left it: every seat approved this version
        from harvester.approvals import proposal_approvers
        from harvester.models import Approval

        for seat in proposal_approvers(proposal).seats:
            for user_id in seat.user_ids[: seat.needed]:
                Approval.objects.create(proposal=proposal, proposal_version=proposal.version, owner_id=seat.owner_id,
                                        user_id=user_id, decision="approve")
    return proposal


def proposal_for_url_walk(world) -> HarvestProposal:
    """One proposal of the Morgans, made once per world (tests/accounts/test_access.py fills URLs with it)."""
    if not hasattr(world, "_proposal"):
        world._proposal = make_proposal(world, world.alex_ind)
    return world._proposal
