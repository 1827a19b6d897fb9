"""The wash-sale examples of IRS Publication 550 (chapter 4, "Wash Sales"), reproduced as stated there.

Pub. 550 uses "stock X/M"; here X is its own identity group. Quantities, prices and dates are the
publication's; where it gives no dates, dates inside the 30-day window are chosen.
"""

from .scenario import adjustment_rows, lot_rows, run, sale_rows


def test_pub550_buy_sell_and_rebuy_within_30_days():
    # "You buy 100 shares of X stock for $1,000. You sell these shares for $750 and within 30 days from
    # the sale you buy 100 shares of the same stock for $800. [...] you can't deduct your loss of $250
    # [...] you add the disallowed loss ($250) to the cost of the new stock ($800) to obtain your basis
    # in the new stock, which is $1,050."
    result = run("""
        b1,2024-02-01,his,X,buy,100,10.00
        s1,2024-05-01,his,X,sell,100,7.50
        b2,2024-05-20,his,X,buy,100,8.00
    """)
    assert sale_rows(result) == [("s1", "b1", "100", "750.00", "1000.00", "250.00", "W", "0.00", "short")]
    assert [(o.buy_trade, str(o.adjusted_basis)) for o in result.open_lots] == [("b2", "1050.00")]


def test_pub550_replacement_bought_within_30_days_before_the_sale():
    # Buy 100 shares for $1,000; within 30 days buy 100 more for $750; sell the first 100 for $750:
    # the $250 loss is disallowed and the basis of the new 100 shares is $1,000 ($750 + $250).
    result = run("""
        b1,2024-09-03,his,X,buy,100,10.00
        b2,2024-09-20,his,X,buy,100,7.50
        s1,2024-09-27,his,X,sell,100,7.50,,b1
    """)
    assert sale_rows(result) == [("s1", "b1", "100", "750.00", "1000.00", "250.00", "W", "0.00", "short")]
    assert [(o.buy_trade, str(o.qty), str(o.adjusted_basis)) for o in result.open_lots] == [("b2", "100", "1000.00")]


def test_pub550_fewer_shares_bought_than_sold():
    # "You bought 100 shares of M stock on September 24 [...] for $5,000. On December 21 [...] you bought
    # 50 shares of substantially identical stock for $2,750. On December 28 [...] you sold for $4,000 the
    # 100 shares you bought in September. You have a $1,000 loss on the sale. However, because you bought
    # 50 shares [...] within 30 days before the sale, you can't deduct the loss ($500) on 50 shares. Your
    # basis in the 50 new shares is $3,250 ($2,750 + $500)." The other $500 is deductible.
    result = run("""
        b1,2024-09-24,his,M,buy,100,50.00
        b2,2024-12-21,his,M,buy,50,55.00
        s1,2024-12-28,his,M,sell,100,40.00,,b1
    """)
    assert sale_rows(result) == [("s1", "b1", "100", "4000.00", "5000.00", "500.00", "W", "-500.00", "short")]
    assert adjustment_rows(result) == [("s1", "b1", "b2", "his", "50", "500.00", "deferred")]
    assert [(o.buy_trade, str(o.adjusted_basis)) for o in result.open_lots] == [("b2", "3250.00")]


def test_pub550_shares_bought_in_two_purchases_are_matched_in_the_order_bought():
    # Pub. 550 "More or less stock bought than sold": match the shares bought, in the order bought,
    # with an equal number of shares sold. 100 shares bought for $5,000 are sold for $4,000 after
    # purchases of 50 ($2,750) and 25 ($1,125) shares in the 30 days before: the loss on 75 shares
    # ($750) is disallowed, $250 is deductible; the 50 shares' basis is $3,250, the 25 shares' $1,375.
    result = run("""
        b1,2009-09-24,his,M,buy,100,50.00
        b2,2009-12-18,his,M,buy,50,55.00
        b3,2009-12-28,his,M,buy,25,45.00
        s1,2010-01-07,his,M,sell,100,40.00,,b1
    """)
    assert sale_rows(result) == [("s1", "b1", "100", "4000.00", "5000.00", "750.00", "W", "-250.00", "short")]
    assert adjustment_rows(result) == [
        ("s1", "b1", "b2", "his", "50", "500.00", "deferred"),
        ("s1", "b1", "b3", "his", "25", "250.00", "deferred"),
    ]
    assert [(o.buy_trade, str(o.adjusted_basis)) for o in result.open_lots] == [("b2", "3250.00"), ("b3", "1375.00")]


def test_pub550_a_spouse_buying_is_a_wash_sale_too():
    # "If you sell stock and your spouse [...] buys substantially identical stock, you also have a wash sale."
    result = run("""
        b1,2024-02-01,his,X,buy,100,10.00
        s1,2024-05-01,his,X,sell,100,7.50
        b2,2024-05-20,hers,X,buy,100,8.00
    """)
    assert adjustment_rows(result) == [("s1", "b1", "b2", "hers", "100", "250.00", "deferred")]


def test_pub550_and_rev_rul_2008_5_ira_purchase():
    # Pub. 550: "If you sell stock and then buy substantially identical stock in your IRA within 30 days,
    # the loss is disallowed" and (Rev. Rul. 2008-5) the IRA basis is not increased.
    result = run("""
        b1,2024-02-01,his,X,buy,100,10.00
        s1,2024-05-01,his,X,sell,100,7.50
        i1,2024-05-20,his_ira,X,buy,100,8.00
    """)
    assert adjustment_rows(result) == [("s1", "b1", "i1", "his_ira", "100", "250.00", "permanent")]
    assert lot_rows(result) == [("his_ira", "X", "i1", "100", "800.00", "2024-05-20", "2024-05-20")]
