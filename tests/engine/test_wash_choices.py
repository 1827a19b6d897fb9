"""The choices made where the law leaves room; each is explained in docs/wash_sales.md (same order)."""

from datetime import date

from lots.engine import IdentityMap, compute, form8949_rows

from .scenario import HOUSEHOLD, adjustment_rows, lot_rows, run, sale_rows, trades


def test_choice_1_shares_bought_before_the_loss_and_sold_before_it_are_not_replacements():
    # b2 was bought 19 days before the loss sale, but it was sold (s0) before the loss sale: no shares are
    # left to carry the disallowed loss, so they do not wash it.
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        b2,2024-02-10,his,X,buy,50,9.00
        s0,2024-02-15,his,X,sell,50,9.50,,b2
        s1,2024-03-01,his,X,sell,100,8.00,,b1
    """)
    assert result.adjustments == ()
    assert [s.code for s in result.sales] == ["", ""]


def test_choice_2_a_replacement_bought_after_the_loss_and_sold_inside_the_window_still_counts():
    # b2 replaces s1's loss (basis 850 + 200); selling b2 nine days later realizes that deferred loss.
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,8.00
        b2,2024-03-05,his,X,buy,100,8.50
        s2,2024-03-14,his,X,sell,100,8.40
    """)
    assert sale_rows(result) == [
        ("s1", "b1", "100", "800.00", "1000.00", "200.00", "W", "0.00", "short"),
        ("s2", "b2", "100", "840.00", "1050.00", "0.00", "", "-210.00", "short"),
    ]


def test_choice_3_recent_lots_sold_in_the_same_trade_are_not_replacements_for_each_other():
    # Both lots were bought within 30 days; selling all of them in one order leaves no replacement shares.
    together = run("""
        b1,2024-02-01,his,X,buy,100,10.00
        b2,2024-02-15,his,X,buy,100,9.00
        s1,2024-03-01,his,X,sell,200,8.00
    """)
    assert together.adjustments == ()
    assert [str(s.gain_loss) for s in together.sales] == ["-200.00", "-100.00"]


def test_choice_3b_sold_in_two_orders_the_first_loss_washes_into_the_lot_sold_second():
    # Execution order decides: after s1, b2 is still held (a replacement bought in the window); s2 then
    # sells b2 with s1's loss in its basis. The total allowed loss is the same as selling together.
    apart = run("""
        b1,2024-02-01,his,X,buy,100,10.00
        b2,2024-02-15,his,X,buy,100,9.00
        s1,2024-03-01,his,X,sell,100,8.00,,b1
        s2,2024-03-01,his,X,sell,100,8.00,,b2
    """)
    assert sale_rows(apart) == [
        ("s1", "b1", "100", "800.00", "1000.00", "200.00", "W", "0.00", "short"),
        ("s2", "b2", "100", "800.00", "1100.00", "0.00", "", "-300.00", "short"),
    ]


def test_choice_4_dividend_reinvestments_count_however_small():
    # 0.012 shares reinvested 10 days after a $500 loss on 100 shares wash 0.012/100 of it: $0.06.
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,5.00
        d1,2024-03-11,his,X,reinvest,0.012,5.10
    """)
    assert adjustment_rows(result) == [("s1", "b1", "d1", "his", "0.012", "0.06", "deferred")]
    assert sale_rows(result) == [("s1", "b1", "100", "500.00", "1000.00", "0.06", "W", "-499.94", "short")]
    assert lot_rows(result) == [("his", "X", "d1", "0.012", "0.12", "2024-03-11", "2024-01-12")]


def test_choice_4b_a_disallowed_amount_that_rounds_to_zero_uses_the_shares_but_is_no_wash_sale_row():
    # 0.0005 shares of a $5 per-share loss: $0.0025, rounded half up to $0.00. The shares are used up
    # (they replaced that loss), the 8949 row has no W and no adjustment.
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,5.00
        d1,2024-03-11,his,X,reinvest,0.0005,5.10
        s2,2024-03-12,his,X,sell,0.0005,4.00
    """)
    assert adjustment_rows(result) == [("s1", "b1", "d1", "his", "0.0005", "0.00", "deferred")]
    assert result.sales[0].code == ""
    assert form8949_rows(result)[0]["adjustment"] == ""


def test_choice_5_two_losses_on_one_day_take_replacements_in_execution_order():
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        b2,2024-01-02,hers,X,buy,100,10.00
        s2,2024-03-01,hers,X,sell,100,8.00
        s1,2024-03-01,his,X,sell,100,8.00
        b3,2024-03-05,joint,X,buy,100,8.10
    """)
    assert adjustment_rows(result) == [("s2", "b2", "b3", "joint", "100", "200.00", "deferred")]
    assert [(s.sell_trade, s.code) for s in result.sales] == [("s2", "W"), ("s1", "")]


def test_choice_6_holding_periods_that_overlap_are_not_counted_twice():
    # The replacement b2 was bought before the sale: its holding period already covers 2024-12-21 to
    # 2024-12-28, so it starts when the sold shares' did (2024-09-24), not 95 days before 2024-12-21.
    result = run("""
        b1,2024-09-24,his,M,buy,100,50.00
        b2,2024-12-21,his,M,buy,50,55.00
        s1,2024-12-28,his,M,sell,100,40.00,,b1
    """)
    assert lot_rows(result) == [("his", "M", "b2", "50", "3250.00", "2024-12-21", "2024-09-24")]
    # A replacement bought before the sold shares keeps its own start: nothing to add.
    earlier = run("""
        b2,2024-12-01,his,M,buy,50,55.00
        b1,2024-12-05,his,M,buy,100,50.00
        s1,2024-12-28,his,M,sell,100,40.00,,b1
    """)
    assert lot_rows(earlier) == [("his", "M", "b2", "50", "3250.00", "2024-12-01", "2024-12-01")]


def test_choice_7_within_a_lot_the_shares_carrying_a_wash_adjustment_are_sold_first():
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,8.00
        b2,2024-03-05,his,X,buy,150,8.50
        s2,2024-06-03,his,X,sell,60,9.00
    """)
    # b2 is two pieces: 100 shares with s1's $200 loss (basis 1050) and 50 plain shares (basis 425).
    assert sale_rows(result)[1] == ("s2", "b2", "60", "540.00", "630.00", "0.00", "", "-90.00", "short")
    assert lot_rows(result) == [
        ("his", "X", "b2", "40", "420.00", "2024-03-05", "2024-01-06"),
        ("his", "X", "b2", "50", "425.00", "2024-03-05", "2024-03-05"),
    ]


def test_choice_8_a_transfer_in_is_a_replacement_only_if_on_record_at_the_loss_sale():
    before = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        t1,2024-02-20,hers,X,transfer_in,100,,,,2024-02-15,900.00
        s1,2024-03-01,his,X,sell,100,8.00
    """)
    after = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,8.00
        t1,2024-03-05,hers,X,transfer_in,100,,,,2024-02-15,900.00
    """)
    assert adjustment_rows(before) == [("s1", "b1", "t1", "hers", "100", "200.00", "deferred")]
    assert after.adjustments == ()


def test_choice_9_rows_out_of_date_order_are_sorted_by_date_keeping_same_day_order():
    rows = """
        s1,2024-03-01,his,X,sell,100,8.00
        b2,2024-03-01,his,X,buy,100,8.10
        b1,2024-01-02,his,X,buy,100,10.00
    """
    result = run(rows)
    assert adjustment_rows(result) == [("s1", "b1", "b2", "his", "100", "200.00", "deferred")]


def test_choice_10_form_8949_column_b_shows_the_holding_period_start():
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,7.50
        b2,2024-03-10,his,X,buy,100,8.00
        s2,2025-01-12,his,X,sell,100,9.00
    """)
    row = form8949_rows(result)[-1]
    assert (row["part"], row["box"], row["date_acquired"], row["date_sold"]) == ("II", "F", "2024-01-11", "2025-01-12")
    assert result.sales[-1].date_acquired == date(2024, 3, 10)


def test_choice_11_before_its_index_since_date_a_fund_is_its_own_group():
    # Without a recorded earlier index, VXUS before 2013-06-03 matches nothing but itself.
    identity = IdentityMap({"VXUS": [(date(2013, 6, 3), "FTSE Global All Cap ex US")],
                            "VEU": [(None, "FTSE Global All Cap ex US")]})
    result = compute(HOUSEHOLD, trades("""
        b1,2013-01-02,his,VXUS,buy,10,50.00
        s1,2013-05-20,his,VXUS,sell,10,45.00
        b2,2013-05-25,his,VEU,buy,10,46.00
        b3,2013-06-10,his,VXUS,buy,10,46.00
    """), identity=identity)
    assert [a.replacement_trade for a in result.adjustments] == ["b3"]
    assert identity.group_on("VXUS", date(2013, 6, 2)) == "VXUS"
    assert identity.group_on("VXUS", date(2013, 6, 3)) == "FTSE Global All Cap ex US"


def test_choice_12_gains_and_losses_are_per_lot_not_netted_per_sale():
    # One sell relieves a gain lot (b1) and a loss lot (b2): only b2's loss is washed by the rebuy,
    # although the sale as a whole is at a gain.
    result = run("""
        b1,2024-01-02,his,X,buy,100,5.00
        b2,2024-02-01,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,200,8.00
        b3,2024-03-05,his,X,buy,100,8.10
    """)
    assert sale_rows(result) == [
        ("s1", "b1", "100", "800.00", "500.00", "0.00", "", "300.00", "short"),
        ("s1", "b2", "100", "800.00", "1000.00", "200.00", "W", "0.00", "short"),
    ]


def test_choice_13_a_replacement_in_an_ira_is_used_up_but_keeps_its_holding_period():
    result = run("""
        b1,2024-01-02,his,X,buy,100,10.00
        s1,2024-03-01,his,X,sell,100,8.00
        i1,2024-03-05,his_ira,X,buy,100,8.10
        b2,2024-03-06,his,X,buy,100,8.20
    """)
    # i1 came first, so it took the loss for good; b2 is left untouched.
    assert adjustment_rows(result) == [("s1", "b1", "i1", "his_ira", "100", "200.00", "permanent")]
    assert lot_rows(result) == [
        ("his", "X", "b2", "100", "820.00", "2024-03-06", "2024-03-06"),
        ("his_ira", "X", "i1", "100", "810.00", "2024-03-05", "2024-03-05"),
    ]
