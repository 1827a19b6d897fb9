"""One scenario per rule of PRODUCT.md "Wash sales": holdings, trades, and the rows a reviewer expects.

Ticker X is its own identity group (identity={}) unless a test says otherwise.
"""

from datetime import date

from lots.engine import IdentityMap, form8949_rows, holding_term

from .scenario import D, adjustment_rows, lot_rows, run, sale_rows


def test_it_washes_a_loss_when_the_same_shares_are_bought_30_days_after():
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,7.50
        b2,2024-03-31,his,X,buy,100,8.00
    """)
    assert sale_rows(result) == [("s1", "b1", "100", "750.00", "1000.00", "250.00", "W", "0.00", "short")]
    assert adjustment_rows(result) == [("s1", "b1", "b2", "his", "100", "250.00", "deferred")]


def test_it_does_not_wash_on_the_31st_day_after():
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,7.50
        b2,2024-04-01,his,X,buy,100,8.00
    """)
    assert sale_rows(result) == [("s1", "b1", "100", "750.00", "1000.00", "0.00", "", "-250.00", "short")]
    assert result.adjustments == ()


def test_the_window_reaches_30_calendar_days_before_across_a_leap_february():
    # 2024-03-01 minus 30 days is 2024-01-31 (February 2024 has 29 days).
    inside = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        b2,2024-01-31,his,X,buy,100,9.00
        s1,2024-03-01,his,X,sell,100,7.50,,b1
    """)
    outside = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        b2,2024-01-30,his,X,buy,100,9.00
        s1,2024-03-01,his,X,sell,100,7.50,,b1
    """)
    assert adjustment_rows(inside) == [("s1", "b1", "b2", "his", "100", "250.00", "deferred")]
    assert lot_rows(inside) == [("his", "X", "b2", "100", "1150.00", "2024-01-31", "2024-01-02")]
    assert outside.adjustments == ()


def test_only_the_replaced_shares_are_washed():
    # Sell 100 at a $2.50 loss, buy 40: the loss on 40 shares ($100) is disallowed, $150 allowed.
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,7.50
        b2,2024-03-11,his,X,buy,40,8.00
    """)
    assert sale_rows(result) == [("s1", "b1", "100", "750.00", "1000.00", "100.00", "W", "-150.00", "short")]
    assert lot_rows(result) == [("his", "X", "b2", "40", "420.00", "2024-03-11", "2024-01-12")]


def test_losses_are_matched_in_order_of_sale_and_replacements_in_order_of_acquisition():
    # Two losses (s1 before s2) and two purchases (b3 before b4): s1 takes all 60 of b3 and 40 of b4;
    # s2 gets the 20 shares of b4 that are left. No replacement share absorbs two losses.
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        b2,2024-01-02,hers,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,8.00
        s2,2024-03-04,hers,X,sell,100,7.00
        b3,2024-03-10,his,X,buy,60,7.50
        b4,2024-03-12,joint,X,buy,60,7.50
    """)
    assert adjustment_rows(result) == [
        ("s1", "b1", "b3", "his", "60", "120.00", "deferred"),
        ("s1", "b1", "b4", "joint", "40", "80.00", "deferred"),
        ("s2", "b2", "b4", "joint", "20", "60.00", "deferred"),
    ]
    assert [(s.sell_trade, str(s.wash_sale_disallowed), str(s.gain_loss)) for s in result.sales] == [
        ("s1", "200.00", "0.00"),
        ("s2", "60.00", "-240.00"),
    ]
    assert lot_rows(result) == [
        ("his", "X", "b3", "60", "570.00", "2024-03-10", "2024-01-11"),
        ("joint", "X", "b4", "40", "380.00", "2024-03-12", "2024-01-13"),
        ("joint", "X", "b4", "20", "210.00", "2024-03-12", "2024-01-10"),
    ]


def test_shares_from_the_same_purchase_are_not_replacements_for_each_other():
    # Rev. Rul. 56-602: buy 200, sell 100 of them at a loss 18 days later: no wash sale.
    result = run("""
        b1,2024-01-02,his,X,buy,200,10.00
        s1,2024-01-20,his,X,sell,100,9.00
    """)
    assert sale_rows(result) == [("s1", "b1", "100", "900.00", "1000.00", "0.00", "", "-100.00", "short")]
    assert lot_rows(result) == [("his", "X", "b1", "100", "1000.00", "2024-01-02", "2024-01-02")]


def test_a_spouses_purchase_washes_the_loss():
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,7.50
        b2,2024-03-15,hers,X,buy,100,8.00
    """)
    assert adjustment_rows(result) == [("s1", "b1", "b2", "hers", "100", "250.00", "deferred")]
    assert lot_rows(result) == [("hers", "X", "b2", "100", "1050.00", "2024-03-15", "2024-01-16")]


def test_a_non_grantor_trust_is_a_separate_taxpayer_and_never_washes_the_family():
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        t1,2024-01-02,trust,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,7.50
        t2,2024-03-01,trust,X,sell,100,7.50
        b2,2024-03-15,trust,X,buy,100,8.00
        t3,2024-03-15,his,X,buy,100,8.00
    """)
    # his loss is washed by his own purchase t3, the trust's loss by its own b2: never across.
    assert adjustment_rows(result) == [
        ("s1", "b1", "t3", "his", "100", "250.00", "deferred"),
        ("t2", "t1", "b2", "trust", "100", "250.00", "deferred"),
    ]


def test_an_ira_purchase_disallows_the_loss_for_good_without_a_basis_increase():
    # Rev. Rul. 2008-5: the loss is disallowed and the IRA shares keep their cost basis.
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,7.50
        i1,2024-03-05,his_ira,X,buy,100,8.00
    """)
    assert sale_rows(result) == [("s1", "b1", "100", "750.00", "1000.00", "250.00", "W", "0.00", "short")]
    assert adjustment_rows(result) == [("s1", "b1", "i1", "his_ira", "100", "250.00", "permanent")]
    assert lot_rows(result) == [("his_ira", "X", "i1", "100", "800.00", "2024-03-05", "2024-03-05")]


def test_roth_401k_and_hsa_purchases_are_permanent_too():
    result = run("""
        b1,2024-01-02,his,X,buy,300,10.00
        s1,2024-03-01,his,X,sell,300,7.50
        r1,2024-03-05,her_roth,X,buy,100,8.00
        k1,2024-03-06,his_401k,X,buy,100,8.00
        h1,2024-03-07,her_hsa,X,buy,100,8.00
    """)
    assert [(a.replacement_account, str(a.disallowed), a.kind) for a in result.adjustments] == [
        ("her_roth", "250.00", "permanent"),
        ("his_401k", "250.00", "permanent"),
        ("her_hsa", "250.00", "permanent"),
    ]
    assert [str(o.adjusted_basis) for o in result.open_lots] == ["800.00", "800.00", "800.00"]


def test_the_disallowed_loss_moves_into_the_replacement_basis_and_holding_period():
    # Held 2024-01-02 to 2024-03-01 = 59 days; the replacement bought 2024-03-10 starts 59 days earlier.
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,7.50
        b2,2024-03-10,his,X,buy,100,8.00
        s2,2025-01-12,his,X,sell,100,9.00
    """)
    assert lot_rows(run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,7.50
        b2,2024-03-10,his,X,buy,100,8.00
    """)) == [("his", "X", "b2", "100", "1050.00", "2024-03-10", "2024-01-11")]
    # Sold 2025-01-12: more than a year after the tacked start 2024-01-11, so long-term.
    assert sale_rows(result)[1] == ("s2", "b2", "100", "900.00", "1050.00", "0.00", "", "-150.00", "long")


def test_a_washed_replacement_sold_at_a_loss_washes_again_with_its_adjusted_basis():
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,8.00
        b2,2024-03-05,his,X,buy,100,8.50
        s2,2024-03-20,his,X,sell,100,8.00
        b3,2024-04-01,hers,X,buy,100,8.20
    """)
    # s1: loss 200 into b2 (850 + 200 = 1050). s2 sells b2 for 800: loss 250 into b3 (820 + 250).
    assert sale_rows(result) == [
        ("s1", "b1", "100", "800.00", "1000.00", "200.00", "W", "0.00", "short"),
        ("s2", "b2", "100", "800.00", "1050.00", "250.00", "W", "0.00", "short"),
    ]
    # Holding periods chain: b2 starts 59 days before 2024-03-05 (2024-01-06); s2 held it 74 days
    # (2024-01-06 to 2024-03-20), so b3 starts 74 days before 2024-04-01.
    assert lot_rows(result) == [("hers", "X", "b3", "100", "1070.00", "2024-04-01", "2024-01-18")]
    assert result.sales[1].wash_basis_adjustment == 200


def test_gains_are_never_washed():
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,12.00
        b2,2024-03-05,his,X,buy,100,12.50
    """)
    assert sale_rows(result) == [("s1", "b1", "100", "1200.00", "1000.00", "0.00", "", "200.00", "short")]
    assert result.adjustments == ()
    assert lot_rows(result) == [("his", "X", "b2", "100", "1250.00", "2024-03-05", "2024-03-05")]


def test_long_term_means_held_more_than_one_year_on_the_calendar():
    result = run("""
        b1,2023-06-15,his,X,buy,10,10.00
        b2,2023-06-15,his,X,buy,10,10.00
        s1,2024-06-15,his,X,sell,10,12.00
        s2,2024-06-16,his,X,sell,10,12.00
    """)
    assert [(s.sell_trade, s.term) for s in result.sales] == [("s1", "short"), ("s2", "long")]


def test_a_february_29_purchase_turns_long_term_on_march_1():
    assert holding_term(date(2024, 2, 29), date(2025, 2, 28)) == "short"
    assert holding_term(date(2024, 2, 29), date(2025, 3, 1)) == "long"
    # 366 days is not "more than one year" when the year has a February 29 in it:
    assert holding_term(date(2023, 3, 1), date(2024, 3, 1)) == "short"
    assert holding_term(date(2023, 3, 1), date(2024, 3, 2)) == "long"


def test_selling_and_buying_back_the_same_day_is_a_wash_sale():
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,7.50
        b2,2024-03-01,his,X,buy,100,7.55
    """)
    assert adjustment_rows(result) == [("s1", "b1", "b2", "his", "100", "250.00", "deferred")]
    assert lot_rows(result) == [("his", "X", "b2", "100", "1005.00", "2024-03-01", "2024-01-02")]


def test_a_december_loss_washed_in_january_is_disallowed_in_the_year_of_the_sale():
    result = run("""
        b1,2024-06-03,his,X,buy,100,10.00
        s1,2024-12-20,his,X,sell,100,7.50
        b2,2025-01-10,his,X,buy,100,8.00
    """)
    sale = result.sales[0]
    assert (sale.tax_year, sale.code, str(sale.wash_sale_disallowed), str(sale.gain_loss)) == (
        2024, "W", "250.00", "0.00")
    assert [r["tax_year"] for r in form8949_rows(result)] == ["2024"]
    assert lot_rows(result) == [("his", "X", "b2", "100", "1050.00", "2025-01-10", "2024-06-24")]


def test_sales_inside_an_ira_are_not_reportable_and_not_washed():
    result = run("""
        i1,2024-01-02,his_ira,X,buy,100,10.00
        i2,2024-03-01,his_ira,X,sell,100,7.50
        b1,2024-03-05,his,X,buy,100,8.00
    """)
    assert [(s.sell_trade, s.reportable, s.code, str(s.gain_loss)) for s in result.sales] == [
        ("i2", False, "", "-250.00")]
    assert result.adjustments == ()
    assert form8949_rows(result) == []


def test_fees_add_to_basis_on_buys_and_reduce_proceeds_on_sells():
    result = run("""
        b1,2024-01-02,his,X,buy,10,100.00,4.95
        s1,2024-02-01,his,X,sell,10,110.00,4.95
    """)
    assert sale_rows(result) == [("s1", "b1", "10", "1095.05", "1004.95", "0.00", "", "90.10", "short")]


def test_fractional_lots_split_without_creating_or_losing_a_cent():
    # 10.123456 shares cost 337.45 (10.123456 * 33.3333 = 337.4482..., plus no fees).
    result = run("""
        b1,2024-01-02,his,X,buy,10.123456,33.3333
        s1,2024-02-01,his,X,sell,3.3,35
        s2,2024-02-02,his,X,sell,3.3,35
        s3,2024-02-03,his,X,sell,3.523456,35
    """)
    bases = [s.cost_basis for s in result.sales]
    assert [str(b) for b in bases] == ["110.00", "110.00", "117.45"]
    assert sum(bases) == D("337.45")
    assert result.open_lots == ()


def test_a_sell_across_lots_splits_its_proceeds_to_the_cent():
    result = run("""
        b1,2024-01-02,his,X,buy,1,10.00
        b2,2024-01-03,his,X,buy,1,10.00
        b3,2024-01-04,his,X,buy,1,10.00
        s1,2024-02-01,his,X,sell,3,33.3333
    """)
    # 3 * 33.3333 = 99.9999 -> proceeds 100.00, split 33.33 / 33.33 / 33.34 (the last takes the rest).
    assert [str(s.proceeds) for s in result.sales] == ["33.33", "33.33", "33.34"]


def test_funds_tracking_the_same_index_are_substantially_identical():
    # Built-in universe: VOO and IVV track the S&P 500 (one group); VTI and ITOT track different indexes.
    same = run("""
        b1,2024-01-02,his,VOO,buy,10,500.00
        s1,2024-03-01,his,VOO,sell,10,450.00
        b2,2024-03-02,his,IVV,buy,10,451.00
    """, identity=None)
    different = run("""
        b1,2024-01-02,his,VTI,buy,10,250.00
        s1,2024-03-01,his,VTI,sell,10,225.00
        b2,2024-03-02,his,ITOT,buy,10,110.00
    """, identity=None)
    assert [(a.replacement_ticker, a.group, str(a.disallowed)) for a in same.adjustments] == [
        ("IVV", "S&P 500 Index", "500.00")]
    assert different.adjustments == ()


def test_a_fund_that_changed_index_is_grouped_by_the_index_it_tracked_on_the_day():
    identity = IdentityMap({
        "VXUS": [(None, "MSCI ACWI ex USA IMI"), (date(2013, 6, 3), "FTSE Global All Cap ex US")],
        "IXUS": [(None, "MSCI ACWI ex USA IMI")],
    })
    before = run("""
        b1,2013-01-02,his,VXUS,buy,10,50.00
        s1,2013-05-20,his,VXUS,sell,10,45.00
        b2,2013-05-25,his,IXUS,buy,10,46.00
    """, identity=identity)
    after = run("""
        b1,2014-01-02,his,VXUS,buy,10,50.00
        s1,2014-05-20,his,VXUS,sell,10,45.00
        b2,2014-05-25,his,IXUS,buy,10,46.00
    """, identity=identity)
    same_ticker_across_the_change = run("""
        b1,2013-01-02,his,VXUS,buy,10,50.00
        s1,2013-05-31,his,VXUS,sell,10,45.00
        b2,2013-06-05,his,VXUS,buy,10,46.00
    """, identity=identity)
    assert [a.group for a in before.adjustments] == ["MSCI ACWI ex USA IMI"]
    assert after.adjustments == ()
    assert [a.replacement_trade for a in same_ticker_across_the_change.adjustments] == ["b2"]


def test_lot_relief_methods():
    trades = """
        b1,2024-01-02,his,X,buy,10,10.00
        b2,2024-01-03,his,X,buy,10,30.00
        b3,2024-01-04,his,X,buy,10,20.00
        s1,2024-02-01,his,X,sell,10,25.00
    """
    assert [s.buy_trade for s in run(trades).sales] == ["b1"]
    assert [s.buy_trade for s in run(trades, lot_method="hifo").sales] == ["b2"]
    assert [s.buy_trade for s in run(trades.replace("sell,10,25.00", "sell,10,25.00,,b3")).sales] == ["b3"]


def test_a_transfer_in_carries_its_acquisition_date_and_basis():
    result = run("""
        t1,2024-01-02,his,X,transfer_in,100,,,,2019-05-01,5000.00
        s1,2024-02-01,his,X,sell,100,60.00
    """)
    assert sale_rows(result) == [("s1", "t1", "100", "6000.00", "5000.00", "0.00", "", "1000.00", "long")]
    assert result.sales[0].date_acquired == date(2019, 5, 1)


def test_fifo_follows_acquisition_dates_even_when_a_transfer_in_is_recorded_later():
    result = run("""
        b1,2024-01-02,his,X,buy,10,10.00
        t1,2024-01-05,his,X,transfer_in,10,,,,2020-06-01,50.00
        s1,2024-02-01,his,X,sell,10,12.00
    """)
    assert [(s.buy_trade, str(s.cost_basis), s.term) for s in result.sales] == [("t1", "50.00", "long")]
