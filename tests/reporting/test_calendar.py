"""The harvest calendar: events from one builder, the iCalendar feed behind a revocable token, reminders."""

from datetime import UTC, date, datetime

import pytest

from harvester import calendar
from reporting import services
from tests.signin import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(history):
    """A policy version every owner acknowledged on 2026-01-15, reviewed quarterly."""
    from harvester.models import HarvestPolicy, PolicyAcknowledgment

    p = HarvestPolicy.objects.create(household=history.household, version=1, review_cadence="quarterly")
    HarvestPolicy.objects.filter(pk=p.pk).update(created_at=datetime(2026, 1, 15, 12, tzinfo=UTC))
    for owner, user in [(history.alex_owner, history.alex), (history.jordan_owner, history.jordan),
                        (history.trust_owner, history.taylor)]:
        PolicyAcknowledgment.objects.create(policy=p, owner=owner, user=user)
    return p


def kinds(events):
    return [(e.day, e.kind) for e in events]


def test_it_dates_wash_windows_switch_backs_reviews_and_year_end(history, policy):
    events = calendar.household_events(history.household, date(2026, 1, 1), date(2026, 12, 31))
    got = kinds(events)
    assert (date(2026, 4, 1), "wash_window") in got  # VEA sold at a loss 2026-03-02: + 30 days
    assert (date(2026, 4, 2), "switch_back") in got  # the executed harvest: + 31 days
    assert [d for d, k in got if k == "review"] == [date(2026, 4, 15), date(2026, 7, 15), date(2026, 10, 15)]
    assert (date(2026, 12, 31), "year_end") in got
    assert (date(2026, 7, 1), "wash_window") not in got  # the joint VTI sale was a gain
    assert got == sorted(got, key=lambda x: x[0])
    switch = next(e for e in events if e.kind == "switch_back")
    assert "IEFA to VEA in Alex individual" in switch.title and switch.uid == f"switch-back-execution-{history.harvest_2026.pk}"


def test_a_wash_window_and_a_switch_back_say_what_and_where(history, policy):
    """Every field of the two events read in plain SQL (harvester/calendar.py _WASH_SQL, _SWITCH_BACK_SQL)."""
    events = calendar.household_events(history.household, date(2026, 1, 1), date(2026, 12, 31))
    wash = [e for e in events if e.kind == "wash_window"]
    switch = [e for e in events if e.kind == "switch_back"]
    h, sale = history.household, history.vea_sale
    assert [(e.day, e.title, e.uid, e.url, e.household_id, e.household_name) for e in wash] == [(
        date(2026, 4, 1), "Wash-sale window closes: VEA sold in Alex individual", f"wash-window-sale-{sale.pk}",
        f"/households/{h.pk}/dashboard/?year=2026&account={history.alex_ind.pk}#drill", h.pk, h.name,
    )]
    assert wash[0].description.startswith(
        "10 sh VEA were sold at a loss of $100.00 in Alex individual on 2026-03-02. Through today, buying VEA or a "
        "fund tracking the same index in any account of the household")
    execution = history.harvest_2026
    assert [(e.day, e.title, e.uid, e.url) for e in switch] == [(
        date(2026, 4, 2), "Switch back possible: IEFA to VEA in Alex individual",
        f"switch-back-execution-{execution.pk}", f"/proposals/{execution.proposal_id}/",
    )]
    assert switch[0].description.startswith(
        "VEA was harvested in Alex individual on 2026-03-02 and replaced by IEFA. From today, 31 days later")
    # The 2025 harvest's dates are outside the range asked for; a range around them finds them.
    earlier = calendar.household_events(history.household, date(2025, 3, 1), date(2025, 4, 30))
    assert f"switch-back-execution-{history.harvest_2025.pk}" in {e.uid for e in earlier}


def test_the_last_trading_day_skips_weekends():
    assert calendar.last_trading_day_of_december(2026) == date(2026, 12, 31)  # Thursday
    assert calendar.last_trading_day_of_december(2027) == date(2027, 12, 31)  # Friday
    assert calendar.last_trading_day_of_december(2028) == date(2028, 12, 29)  # the 31st is a Sunday


def test_scheduled_purchases_come_from_the_schedule(history):
    from lots.models import ScheduledPurchase, Security

    ScheduledPurchase.objects.create(account=history.jordan_ind, security=Security.objects.get(ticker="VTI"),
                                     kind="contribution", frequency="monthly", amount="500", start_date=date(2026, 1, 5))
    events = calendar.household_events(history.household, date(2026, 12, 1), date(2026, 12, 31))
    days = [e.day for e in events if e.kind == "scheduled_purchase"]
    assert days == [date(2026, 12, 7)]  # the 5th is a Saturday: the next trading day
    assert "$500.00" in next(e for e in events if e.kind == "scheduled_purchase").description


def test_one_household_never_shows_anothers_dates(history):
    events = calendar.household_events(history.other_household, date(2026, 1, 1), date(2026, 12, 31))
    assert {e.kind for e in events} == {"year_end"}


def test_ics_escapes_folds_and_stamps():
    event = calendar.Event(
        day=date(2026, 4, 1), kind="wash_window", title="Wash; window, closes\\now", description="é" * 60 + "\nline two",
        household_id=1, household_name="Morgan", uid="wash-window-sale-7",
    )
    body = calendar.ics_calendar([event], name="Harvester", now=datetime(2026, 11, 27, 15, 4, 5, tzinfo=UTC))
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and body.endswith("END:VCALENDAR\r\n")
    lines = body.split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert "SUMMARY:Wash\\; window\\, closes\\\\now (Morgan)" in body
    assert "DTSTAMP:20261127T150405Z" in lines and "UID:wash-window-sale-7@harvester" in lines
    assert "DTSTART;VALUE=DATE:20260401" in lines and "DTEND;VALUE=DATE:20260402" in lines
    unfolded = body.replace("\r\n ", "")
    assert "DESCRIPTION:" + "é" * 60 + "\\nline two" in unfolded
    body.encode("utf-8").decode("utf-8")  # never cut inside a character


def test_the_feed_serves_the_users_households_by_token(history, policy, client):
    key = services.calendar_token_create(user=history.jordan)
    response = client.get(f"/calendar/{key}.ics")
    assert response.status_code == 200 and response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert "BEGIN:VEVENT" in body and "Morgan household" in body and "Chen household" not in body
    assert body.count("BEGIN:VEVENT") == body.count("END:VEVENT") and "\r\n" in body


def test_a_revoked_or_replaced_address_stops_working(history, client):
    old = services.calendar_token_create(user=history.alex)
    new = services.calendar_token_create(user=history.alex)
    assert client.get(f"/calendar/{old}.ics").status_code == 403
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    services.calendar_token_revoke(user=history.alex)
    assert client.get(f"/calendar/{new}.ics").status_code == 403
    sign_in(client, history.alex)
    assert client.get(f"/calendar/{new}.ics").status_code == 404  # logged in: not an address of theirs


def test_an_inactive_users_feed_is_closed(history, client):
    key = services.calendar_token_create(user=history.alex)
    history.alex.is_active = False
    history.alex.save()
    assert client.get(f"/calendar/{key}.ics").status_code == 403


def test_only_the_hash_is_stored(history):
    from reporting.models import CalendarToken

    key = services.calendar_token_create(user=history.alex)
    token = CalendarToken.objects.get(user=history.alex)
    assert key not in (token.key_hash, token.hint) and token.hint == key[-4:]


def test_the_access_page_shows_the_address_once(history, client):
    from harvester.models import AuditEvent

    sign_in(client, history.alex)
    page = client.post("/reporting/access/", {"action": "calendar-rotate"}).content.decode()
    assert 'id="calendar-url"' in page and "/calendar/" in page
    again = client.get("/reporting/access/").content.decode()
    assert 'id="calendar-url"' not in again and "is live since" in again
    client.post("/reporting/access/", {"action": "calendar-revoke"})
    assert "You have no calendar address." in client.get("/reporting/access/").content.decode()
    actions = list(AuditEvent.objects.filter(actor=history.alex, action__startswith="auth.calendar").values_list("action", flat=True))
    assert sorted(actions) == ["auth.calendar_token.create", "auth.calendar_token.revoke"]


def test_the_review_reminder_goes_out_once(history, policy, time_machine):
    from harvester.calendar_tasks import review_reminders_task
    from harvester.models import Notification

    time_machine.move_to(datetime(2026, 4, 10, 12, tzinfo=UTC), tick=False)
    assert review_reminders_task() == 1
    notes = Notification.objects.filter(kind="review_due")
    assert sorted(n.user.username for n in notes) == ["advisor", "alex", "jordan", "taylor"]  # not the reporter
    assert "Wednesday 15 April 2026" in notes[0].subject
    assert review_reminders_task() == 0  # the (household, due date) claim is taken
    assert Notification.objects.filter(kind="review_due").count() == 4


def test_the_policy_in_force_agrees_with_the_policy_module(history, policy):
    from harvester.models import HarvestPolicy
    from harvester.policy import policy_in_force

    newer = HarvestPolicy.objects.create(household=history.household, version=2, review_cadence="semiannual")
    households = [history.household, history.other_household]
    assert calendar.policies_in_force(households) == {history.household.pk: policy}  # v2 is not acknowledged
    assert policy_in_force(history.household) == policy and newer.pk != policy.pk


def test_the_calendar_costs_the_same_queries_for_many_households(history, policy, django_assert_max_num_queries):
    from accounts.models import Household

    with django_assert_max_num_queries(8):
        calendar.households_events(list(Household.objects.all()), date(2026, 1, 1), date(2026, 12, 31))


def test_open_proposals_show_when_they_expire(history):
    from harvester.models import HarvestProposal

    p = history.harvest_2026.proposal
    HarvestProposal.objects.filter(pk=p.pk).update(
        status="awaiting_approval", expires_at=datetime(2026, 12, 2, 17, tzinfo=UTC)
    )
    events = calendar.household_events(history.household, date(2026, 12, 1), date(2026, 12, 3))
    assert [(e.day, e.kind) for e in events] == [(date(2026, 12, 2), "proposal_expiry")]
    HarvestProposal.objects.filter(pk=p.pk).update(status="executed")
    assert calendar.household_events(history.household, date(2026, 12, 1), date(2026, 12, 3)) == []
