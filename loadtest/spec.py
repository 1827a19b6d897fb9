"""What the load test is, in one place: the user mix, the request classes and their thresholds.

No Django and no locust here: the seed command, the locustfile and the report all import it.
"""

import math

# Locust splits the simulated users by these weights. The seed makes at least that many logins of each
# kind, so no two simulated users share one (two owners on one inbox would race for the same proposals).
WEIGHTS = {"owner": 2, "advisor": 1, "reporting": 1}

# Request classes: locust's request names.
OWNER_INBOX = "owner: inbox"
OWNER_PROPOSAL = "owner: proposal page"
OWNER_APPROVE = "owner: approve (htmx POST)"
OWNER_DECLINE = "owner: decline (htmx POST)"
ADVISOR_HOME = "advisor: household list"
ADVISOR_HOUSEHOLD = "advisor: household page"
DASHBOARD = "advisor: dashboard page"
PARTIAL_YEAR = "advisor: dashboard partial, year panel"
PARTIAL_GROUPS = "advisor: dashboard partial, drill owner groups"
PARTIAL_ACCOUNTS = "advisor: dashboard partial, drill accounts"
PARTIAL_SALES = "advisor: dashboard partial, drill sales page"
BOOK_DASHBOARD = "advisor: book dashboard (all households)"
SCANS = "advisor: scans page"
API_LOTS = "api: open lots page (100)"
API_REALIZED = "api: realized totals"
API_DISPOSALS = "api: disposals page (100)"

PARTIALS = (PARTIAL_YEAR, PARTIAL_GROUPS, PARTIAL_ACCOUNTS, PARTIAL_SALES)
ALL_PARTIALS = "advisor: dashboard partials, all four"

# The dashboard issue's figures: p95 in milliseconds. Every class must also have zero failures.
P95_LIMITS_MS = {
    API_LOTS: 40,
    DASHBOARD: 150,
    **dict.fromkeys(PARTIALS, 50),
    ALL_PARTIALS: 50,
}
GROUPS = {ALL_PARTIALS: PARTIALS}


def split(users: int) -> dict[str, int]:
    """Logins to seed per kind for `users` simulated users: each kind's share rounded up, plus one."""
    total = sum(WEIGHTS.values())
    return {kind: math.ceil(users * weight / total) + 1 for kind, weight in WEIGHTS.items()}
