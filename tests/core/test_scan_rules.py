"""The harvest scan, one rule at a time, on the Morgans (tests/core/household.py). No database."""

from dataclasses import replace
from datetime import date

from harvester.core import HeldLot, OwnerInfo, Quote, TaxProfile, harvest_value, scan, trading_days_between
from harvester.core.proposal import (
    BELOW_THRESHOLD,
    COST_EXCEEDS_VALUE,
    GUARD_FAILED,
    NO_CLEAN_REPLACEMENT,
    NO_TAX_PROFILE,
    STALE_PRICE,
    SWITCH_BACK,
    SWITCHBACK_GAIN_OVER_LIMIT,
    WASHED_BY_THIS_SCAN,
    fingerprint,
)

from .household import (
    AS_OF,
    COUPLE,
    OWNERS,
    TRUST,
    YEAR,
    D,
    bought,
    checks,
    days_ago,
    household,
    lot,
    only,
    run,
    scheduled,
    skip_reasons,
    sold_at_loss,
    with_policy,
)

# Alex holds 100 VTI bought at 250; VTI closes at 200: a 5,000 short-term loss (20%).
VTI_LOSS = lot("L1", "alex_ind", "VTI", "100", "25000.00")


# -- candidates and lots -----------------------------------------------------------------------------------
def test_it_harvests_a_loss_into_the_next_fund_of_the_chain_with_the_same_dollars():
    p = only(run(household(VTI_LOSS)).proposals)
    assert (p.kind, p.account, p.sell_ticker, p.buy_ticker) == ("harvest", "alex_ind", "VTI", "ITOT")
    assert (p.sell_quantity, p.proceeds, p.basis, p.buy_amount) == (D("100"), D("20000.00"), D("25000.00"),
                                                                     D("20000.00"))
    assert (p.loss_short, p.loss_long) == (D("5000.00"), D("0.00"))
    assert p.trading_cost == D("8.00")  # 2 bp of 20,000 on the sell and on the buy
    assert all(checks(p).values()) and len(p.checks) == 5
    assert p.required_actions == ()
    assert p.sale_date == AS_OF and p.rank == 1


def test_the_tax_value_is_the_owners_return_valued_by_the_tax_projection():
    p = only(run(household(VTI_LOSS)).proposals)
    assert p.tax_value == harvest_value(COUPLE, D("5000"), D("0")).value_now == D("1640.00")


def test_it_sells_only_the_loss_lots_largest_loss_per_share_first():
    snapshot = household(
        lot("small", "alex_ind", "VTI", "10", "2200.00", days_ago(400)),  # 20 a share, long-term
        VTI_LOSS,  # 50 a share, short-term
        lot("gain", "alex_ind", "VTI", "10", "1900.00"),  # worth 2,000: a gain, kept
    )
    p = only(run(snapshot).proposals)
    assert [(x.lot_id, x.loss, x.term) for x in p.lots] == [("L1", D("5000.00"), "short"),
                                                             ("small", D("200.00"), "long")]
    assert (p.loss_short, p.loss_long, p.sell_quantity) == (D("5000.00"), D("200.00"), D("110"))
    assert "The other lot of VTI in this account is worth at least what it cost and stays" in p.explanation.why_lots


def test_nothing_is_ever_harvested_in_an_ira():
    result = run(household(lot("I1", "alex_ira", "VTI", "100", "25000.00"),
                           lot("R1", "jordan_ira", "VOO", "10", "9000.00")))
    assert result.proposals == () and result.skipped == ()


def test_thresholds_are_met_exactly_at_the_dollar_and_percent_minimum():
    # 100 shares bought for 20,000 at a close of 190: a loss of exactly 1,000.00, exactly 5%.
    edge = household(lot("E", "alex_ind", "VTI", "100", "20000.00"), prices={"VTI": "190"})
    p = only(run(edge).proposals)
    assert p.loss_short == D("1000.00")


def test_a_cent_below_the_minimum_is_not_a_candidate():
    below = household(lot("E", "alex_ind", "VTI", "100", "20000.00"), prices={"VTI": "190.0001"})
    result = run(below)
    assert result.proposals == ()
    skipped = only(result.skipped)
    assert skipped.reason == BELOW_THRESHOLD and skipped.loss == D("999.99")


def test_both_thresholds_must_be_met():
    dollars_only = household(lot("V", "alex_ind", "VV", "100", "26000.00"))  # 1,000 but 3.85%
    percent_only = household(lot("S", "alex_ind", "VTI", "10", "2500.00"))  # 20% but 500
    for snapshot in (dollars_only, percent_only):
        result = run(snapshot)
        assert result.proposals == ()
        assert only(result.skipped).reason == BELOW_THRESHOLD


def test_a_harvest_whose_trading_cost_exceeds_its_value_is_skipped():
    result = run(household(VTI_LOSS, policy=with_policy(spread_bps=D("5000"))))
    assert result.proposals == ()
    assert only(result.skipped).reason == COST_EXCEEDS_VALUE


def test_an_owner_without_a_tax_profile_is_not_valued():
    owners = (replace(OWNERS[0], profile=None), *OWNERS[1:])
    result = run(household(VTI_LOSS, owners=owners))
    assert result.proposals == ()
    assert only(result.skipped).reason == NO_TAX_PROFILE


def test_a_joint_account_is_valued_at_the_couples_shared_return():
    p = only(run(household(lot("J", "joint", "VTI", "100", "25000.00"))).proposals)
    assert p.owners == ("alex", "jordan")
    assert p.tax_value == harvest_value(COUPLE, D("5000"), D("0")).value_now


def test_spouses_on_separate_returns_share_a_joint_accounts_loss_equally():
    single = TaxProfile(YEAR, "mfs", ordinary_income=D("150000"), state_rate=D("5"), st_gains=D("10000"))
    owners = (OwnerInfo("alex", "Alex", "morgans", single), OwnerInfo("jordan", "Jordan", "morgans", single),
              OWNERS[2])
    p = only(run(household(lot("J", "joint", "VTI", "100", "25000.00"), owners=owners)).proposals)
    assert p.tax_value == 2 * harvest_value(single, D("2500"), D("0")).value_now


# -- guard 1: recent purchases ------------------------------------------------------------------------------
def test_a_drip_in_the_spouses_ira_last_week_blocks_the_harvest():
    result = run(household(VTI_LOSS, acquisitions=(bought("jordan_ira", "VTI", 7, "0.25"),)))
    assert result.proposals == ()
    skipped = only(result.skipped)
    assert skipped.reason == GUARD_FAILED
    assert "Jordan IRA bought 0.25 VTI on 2026-02-04" in skipped.detail


def test_a_purchase_of_another_fund_of_the_same_index_blocks_too():
    voo = lot("V1", "alex_ind", "VOO", "10", "6000.00")
    result = run(household(voo, acquisitions=(bought("alex_ira", "IVV", 3),)))
    assert result.proposals == () and only(result.skipped).reason == GUARD_FAILED


def test_a_purchase_31_days_ago_no_longer_blocks():
    assert run(household(VTI_LOSS, acquisitions=(bought("jordan_ira", "VTI", 31),))).proposals


def test_a_recent_purchase_sold_in_the_same_sale_does_not_block():
    recent = lot("L4", "alex_ind", "VTI", "10", "2100.00", days_ago(10))  # bought at 210, now 200: a loss lot
    p = only(run(household(VTI_LOSS, recent, acquisitions=(bought("alex_ind", "VTI", 10, "10", "L4"),))).proposals)
    assert {x.lot_id for x in p.lots} == {"L1", "L4"}
    assert "sold in this same sale" in {c.name: c.detail for c in p.checks}["recent_purchases"]


def test_a_recent_purchase_is_sold_first():
    recent = lot("L4", "alex_ind", "VTI", "10", "2010.00", days_ago(10), origin="B4")  # 1 a share: sold last by loss
    p = only(run(household(VTI_LOSS, recent, acquisitions=(bought("alex_ind", "VTI", 10, "10", "B4"),))).proposals)
    assert [x.lot_id for x in p.lots] == ["L1", "L4"]
    assert [(o.origin, o.quantity, o.lot_ids) for o in p.sell_orders] == [("B4", D("10"), ("L4",)),
                                                                          ("L1", D("100"), ("L1",))]


def test_two_recent_purchases_sold_together_would_wash_each_other():
    first = lot("L4", "alex_ind", "VTI", "10", "2100.00", days_ago(20))
    second = lot("L5", "alex_ind", "VTI", "10", "2100.00", days_ago(10))
    buys = (bought("alex_ind", "VTI", 20, "10", "L4"), bought("alex_ind", "VTI", 10, "10", "L5"))
    result = run(household(VTI_LOSS, first, second, acquisitions=buys))
    assert result.proposals == ()
    skipped = only(result.skipped)
    assert skipped.reason == GUARD_FAILED and "2 purchases of the last 30 days" in skipped.detail


def test_a_recent_purchase_at_a_gain_is_not_sold_and_blocks():
    recent = lot("L4", "alex_ind", "VTI", "10", "1900.00", days_ago(10))  # bought at 190: a gain, kept
    result = run(household(VTI_LOSS, recent, acquisitions=(bought("alex_ind", "VTI", 10, "10", "L4"),)))
    assert result.proposals == () and only(result.skipped).reason == GUARD_FAILED


# -- guard 2: scheduled purchases ----------------------------------------------------------------------------
def test_a_drip_in_the_spouses_ira_adds_a_required_action():
    p = only(run(household(VTI_LOSS, scheduled=(scheduled("jordan_ira", "VTI", 20),))).proposals)
    action = only(p.required_actions)
    assert action.text == "Pause the DRIP of VTI in Jordan IRA until 2026-03-14"
    assert (action.until, action.account, action.schedule_id) == (date(2026, 3, 14), "jordan_ira",
                                                                  "drip-jordan_ira-VTI")
    assert checks(p)["scheduled_purchases"]
    assert "Required before trading: Pause the DRIP of VTI in Jordan IRA until 2026-03-14" in p.explanation.checks


def test_a_contribution_scheduled_next_week_is_caught():
    p = only(run(household(VTI_LOSS, scheduled=(scheduled("joint", "VTI", 7, "contribution"),))).proposals)
    assert [a.text for a in p.required_actions] == [
        "Pause the recurring contribution of VTI in Joint until 2026-03-14"]


def test_several_dates_of_one_schedule_need_one_pause():
    rows = tuple(scheduled("alex_ind", "VTI", n, "contribution", "weekly") for n in (1, 8, 15, 22, 29))
    p = only(run(household(VTI_LOSS, scheduled=rows)).proposals)
    assert len(p.required_actions) == 1


def test_a_schedule_that_cannot_be_paused_blocks_the_harvest():
    result = run(household(VTI_LOSS, scheduled=(scheduled("alex_ira", "VTI", 5, "payroll", pausable=False),)))
    assert result.proposals == ()
    skipped = only(result.skipped)
    assert skipped.reason == GUARD_FAILED and "cannot be paused" in skipped.detail


def test_schedules_beyond_30_days_or_of_other_groups_need_nothing():
    rows = (scheduled("jordan_ira", "VTI", 31), scheduled("jordan_ira", "ITOT", 3))
    p = only(run(household(VTI_LOSS, scheduled=rows)).proposals)
    assert p.required_actions == ()


# -- guards 3, 4, 5: the replacement ----------------------------------------------------------------------
def test_a_replacement_sold_at_a_loss_last_week_is_skipped_for_the_next_in_its_chain():
    p = only(run(household(VTI_LOSS, loss_sales=(sold_at_loss("jordan_ind", "ITOT", 7),))).proposals)
    assert p.buy_ticker == "SCHB"
    assert "ITOT: Jordan individual sold 10 ITOT at a loss on 2026-02-04" in p.explanation.why_replacement


def test_a_loss_sale_inside_an_ira_does_not_rule_out_a_replacement():
    p = only(run(household(VTI_LOSS, loss_sales=(sold_at_loss("jordan_ira", "ITOT", 7),))).proposals)
    assert p.buy_ticker == "ITOT"


def test_voo_is_never_replaced_by_ivv_or_splg():
    voo = lot("V1", "alex_ind", "VOO", "10", "6000.00")
    p = only(run(household(voo)).proposals)
    assert p.buy_ticker == "VV"
    assert "IVV: IVV tracks the same index as VOO (S&P 500 Index)" in p.explanation.why_replacement
    assert "SPLG: SPLG tracks the same index" in p.explanation.why_replacement


def test_voo_with_only_sp500_funds_left_has_no_clean_replacement():
    voo = lot("V1", "alex_ind", "VOO", "10", "6000.00")
    result = run(household(voo, exclusions=frozenset({"VV", "SCHX"})))
    assert result.proposals == ()
    skipped = only(result.skipped)
    assert skipped.reason == NO_CLEAN_REPLACEMENT
    assert "VV: excluded by the household" in skipped.detail


def test_a_chain_entry_of_another_asset_class_is_passed_over():
    chains = {"us_total_market": ("VTI", "AGG", "ITOT")}
    p = only(run(household(VTI_LOSS, chains=chains)).proposals)
    assert p.buy_ticker == "ITOT"
    assert "AGG: AGG is in us_bonds, VTI in us_total_market: the allocation would drift" in (
        p.explanation.why_replacement)


def test_a_harvest_of_a_secondary_fund_goes_back_to_a_clean_primary():
    itot = lot("T1", "alex_ind", "ITOT", "100", "12000.00")  # 2,000 loss
    assert only(run(household(itot)).proposals).buy_ticker == "VTI"


# -- scope: the trust ----------------------------------------------------------------------------------------
def test_a_trust_outside_the_legal_scope_does_not_block_the_couple():
    trust_buy = (bought("trust_acct", "VTI", 3),)
    legal = household(VTI_LOSS, acquisitions=trust_buy, policy=with_policy(scope="taxpayer_unit"))
    assert only(run(legal).proposals).account == "alex_ind"
    conservative = household(VTI_LOSS, acquisitions=trust_buy)  # default scope: the whole household
    assert skip_reasons(run(conservative)) == {("alex_ind", "VTI"): GUARD_FAILED}


def test_the_couples_drip_does_not_reach_the_trust_in_the_legal_scope():
    trust_lot = lot("T", "trust_acct", "VTI", "100", "25000.00")
    drip = (scheduled("jordan_ira", "VTI", 4),)
    legal = only(run(household(trust_lot, scheduled=drip, policy=with_policy(scope="taxpayer_unit"))).proposals)
    assert legal.required_actions == ()
    conservative = only(run(household(trust_lot, scheduled=drip)).proposals)
    assert [a.account for a in conservative.required_actions] == ["jordan_ira"]


# -- where: ranking across accounts ---------------------------------------------------------------------------
LOW = TaxProfile(YEAR, "mfj", ordinary_income=D("60000"))
HIGH_TRUST = TaxProfile(YEAR, "trust", ordinary_income=D("100000"), state_rate=D("5"), st_gains=D("20000"))


def _rivals(couple: TaxProfile, trust: TaxProfile):
    # Only two funds in the chain: whoever harvests first must buy what the other would sell.
    owners = (replace(OWNERS[0], profile=couple), replace(OWNERS[1], profile=couple), replace(OWNERS[2], profile=trust))
    return household(
        lot("A", "alex_ind", "ITOT", "200", "25000.00"),  # 5,000 loss in ITOT
        lot("T", "trust_acct", "VTI", "100", "25000.00"),  # 5,000 loss in VTI
        owners=owners, chains={"us_total_market": ("VTI", "ITOT")},
    )


def test_the_account_where_the_loss_is_worth_most_is_chosen():
    result = run(_rivals(LOW, HIGH_TRUST))
    p = only(result.proposals)
    assert (p.account, p.sell_ticker, p.buy_ticker) == ("trust_acct", "VTI", "ITOT")
    assert skip_reasons(result) == {("alex_ind", "ITOT"): WASHED_BY_THIS_SCAN}
    assert "a harvest proposed in this scan buys ITOT in Morgan Trust account today" in only(result.skipped).detail

    flipped = run(_rivals(COUPLE, replace(TRUST, ordinary_income=D("2000"), lt_gains=D("0"))))
    p = only(flipped.proposals)
    assert (p.account, p.sell_ticker, p.buy_ticker) == ("alex_ind", "ITOT", "VTI")
    assert skip_reasons(flipped) == {("trust_acct", "VTI"): WASHED_BY_THIS_SCAN}


def test_the_same_group_at_a_loss_in_two_accounts_is_sold_in_both_ranked_by_value():
    result = run(household(lot("T", "trust_acct", "VTI", "100", "25000.00"), VTI_LOSS))
    ranked = [(p.rank, p.account, p.buy_ticker) for p in result.proposals]
    assert ranked == [(1, "alex_ind", "ITOT"), (2, "trust_acct", "ITOT")]
    first, second = result.proposals
    assert first.tax_value > second.tax_value
    assert "at a loss in 2 taxable accounts" in first.explanation.why_account
    assert "This account is worth the most" in first.explanation.why_account


def test_a_replacement_avoids_a_fund_another_account_is_about_to_harvest():
    # VTI (Alex) ranks first and would buy ITOT, which Jordan is about to harvest: it takes SCHB instead.
    # Jordan's ITOT cannot go back to VTI (sold at a loss by Alex's proposal today): SCHB too.
    result = run(household(VTI_LOSS, lot("J", "jordan_ind", "ITOT", "200", "25000.00")))
    assert [(p.account, p.sell_ticker, p.buy_ticker) for p in result.proposals] == [
        ("alex_ind", "VTI", "SCHB"), ("jordan_ind", "ITOT", "SCHB")]
    first = result.proposals[0]
    assert "ITOT: at a loss in another account of the household" in first.explanation.why_replacement


def test_a_second_harvest_on_the_same_return_is_revalued_after_the_first():
    # No gains this year: the first loss uses the 3,000 offset, the second is worth nothing now.
    couple = TaxProfile(YEAR, "mfj", ordinary_income=D("300000"))
    owners = tuple(replace(o, profile=couple) if o.id != "trust" else o for o in OWNERS)
    result = run(household(VTI_LOSS, lot("V", "jordan_ind", "VOO", "10", "6000.00"), owners=owners))
    p = only(result.proposals)
    assert p.account == "alex_ind"
    skipped = only(result.skipped)
    assert skipped.reason == COST_EXCEEDS_VALUE and "after the harvests ranked above it" in skipped.detail


# -- prices ---------------------------------------------------------------------------------------------------
def test_a_stale_price_is_refused_not_a_crash():
    # Thursday 2026-02-05's close on Wednesday 2026-02-11 is 4 trading days old; the limit is 3.
    result = run(household(VTI_LOSS, price_date=date(2026, 2, 5)))
    assert result.proposals == ()
    refusal = only(r for r in result.refusals if r.ticker == "VTI")
    assert refusal.price_date == date(2026, 2, 5) and "4 trading days" in refusal.reason
    assert only(result.skipped).reason == STALE_PRICE


def test_a_close_three_trading_days_old_is_used():
    assert run(household(VTI_LOSS, price_date=date(2026, 2, 6))).proposals  # Friday: Mon, Tue, Wed


def test_a_missing_or_future_price_is_refused():
    prices = {t: q for t, q in household().prices.items() if t != "VTI"}
    assert "no closing price for VTI" in only(run(replace(household(VTI_LOSS), prices=prices)).refusals).reason
    future = dict(household().prices, VTI=Quote(D("200"), date(2026, 2, 12)))
    assert "after the scan date" in only(run(replace(household(VTI_LOSS), prices=future)).refusals).reason


def test_trading_days_count_weekdays_only():
    friday, monday = date(2026, 2, 6), date(2026, 2, 9)
    assert trading_days_between(friday, monday) == 1
    assert trading_days_between(monday, monday) == 0
    assert trading_days_between(friday, date(2026, 2, 20)) == 10


# -- switch-back ----------------------------------------------------------------------------------------------
def _replacement(basis, ago=40, **extra):
    return lot("S1", "alex_ind", "ITOT", "100", basis, days_ago(ago), from_harvest=True, **extra)


def test_switch_back_is_proposed_when_the_gain_is_below_the_limit():
    p = only(run(household(_replacement("9900.00"))).proposals)  # worth 10,000: a 100 gain
    assert (p.kind, p.sell_ticker, p.buy_ticker, p.buy_amount) == (SWITCH_BACK, "ITOT", "VTI", D("10000.00"))
    assert (p.loss_short, p.loss_long) == (D("-100.00"), D("0.00"))
    assert p.tax_value < 0  # a gain costs a little tax
    assert "realizes a gain of $100.00, within the household's limit of $250.00" in p.explanation.why_lots


def test_switch_back_is_blocked_by_the_gain_limit():
    for basis in ("9700.00", "9750.00"):  # gains of 300 and exactly 250: not below the limit
        result = run(household(_replacement(basis)))
        assert result.proposals == ()
        assert only(result.skipped).reason == SWITCHBACK_GAIN_OVER_LIMIT


def test_switch_back_waits_for_the_31st_day():
    assert run(household(_replacement("9900.00", ago=30))).proposals == ()
    assert only(run(household(_replacement("9900.00", ago=31))).proposals).kind == SWITCH_BACK


def test_switch_back_may_take_a_long_term_gain_when_the_household_accepts_it():
    old = _replacement("5000.00", ago=400)  # a 5,000 long-term gain
    assert only(run(household(old)).skipped).reason == SWITCHBACK_GAIN_OVER_LIMIT
    accepting = household(old, policy=with_policy(switchback_accept_long_term=True))
    assert only(run(accepting).proposals).loss_long == D("-5000.00")


def test_switch_back_is_blocked_while_the_primary_was_sold_at_a_loss_within_30_days():
    result = run(household(_replacement("9900.00"), loss_sales=(sold_at_loss("jordan_ind", "VTI", 10),)))
    assert result.proposals == ()
    assert only(result.skipped).reason == GUARD_FAILED


def test_a_switch_back_at_a_small_loss_is_guarded_like_a_harvest():
    # A 500 loss: under the harvest minimum, so it is a switch-back; a DRIP of ITOT next week must pause.
    result = run(household(_replacement("10500.00"), scheduled=(scheduled("alex_ind", "ITOT", 6),)))
    p = only(result.proposals)
    assert (p.kind, p.loss_short) == (SWITCH_BACK, D("500.00"))
    assert [a.text for a in p.required_actions] == ["Pause the DRIP of ITOT in Alex individual until 2026-03-14"]


def test_lots_not_bought_as_replacements_are_not_switched_back():
    held = lot("S1", "alex_ind", "ITOT", "100", "9900.00", days_ago(40))
    assert run(household(held)).proposals == ()


# -- fingerprint -------------------------------------------------------------------------------------------
def test_the_fingerprint_names_what_is_traded_and_nothing_else():
    a = only(run(household(VTI_LOSS, lot("L2", "alex_ind", "VTI", "10", "2400.00"))).proposals)
    assert a.fingerprint == fingerprint("alex_ind", "VTI", ["L2", "L1"], "ITOT")
    assert len(a.fingerprint) == 64
    later = only(run(household(lot("L2", "alex_ind", "VTI", "10", "2400.00"), VTI_LOSS, prices={"VTI": "190"}),
                     AS_OF).proposals)
    assert later.fingerprint == a.fingerprint  # same trades, other prices: the same proposal
    assert fingerprint("alex_ind", "VTI", ["L1", "L2"], "SCHB") != a.fingerprint


def test_two_funds_of_one_index_in_one_account_are_two_candidates():
    result = run(household(lot("V", "alex_ind", "VOO", "10", "6000.00"), lot("I", "alex_ind", "IVV", "10", "6600.00")))
    assert sorted((p.sell_ticker, p.buy_ticker) for p in result.proposals) == [("IVV", "VV"), ("VOO", "VV")]


def test_the_scan_is_deterministic():
    snapshot = household(VTI_LOSS, lot("T", "trust_acct", "VTI", "100", "25000.00"),
                         lot("V", "jordan_ind", "VOO", "10", "6000.00"))
    assert scan(snapshot, AS_OF) == scan(snapshot, AS_OF)


def test_lots_carry_the_origin_to_name_on_the_sell_order():
    piece = HeldLot("B7#1", "alex_ind", "VTI", D("100"), D("25000.00"), days_ago(100), origin="B7")
    p = only(run(household(piece)).proposals)
    assert [(x.lot_id, x.origin) for x in p.lots] == [("B7#1", "B7")]
    assert p.as_dict()["lots"][0]["origin"] == "B7"


def test_an_inconsistent_snapshot_is_refused_with_a_clear_error():
    import pytest

    from harvester.core import SnapshotError

    with pytest.raises(SnapshotError, match="unknown account 'nowhere'"):
        run(household(lot("X", "nowhere", "VTI", "1", "100.00")))
    with pytest.raises(SnapshotError, match="duplicate lot id 'L1'"):
        run(household(VTI_LOSS, VTI_LOSS))
    with pytest.raises(SnapshotError, match="policy scope 'everyone'"):
        run(household(VTI_LOSS, policy=with_policy(scope="everyone")))
