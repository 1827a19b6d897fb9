"""The README's run path on the embedded default: SQLite, in-process tasks, the demo, a logged-in page."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
from django.test import Client
from accounts.models import Household
from lots.models import Lot, Disposal, WashSaleAdjustment, Price
main = Household.objects.get(name="Morgan household")
c = Client(HTTP_HOST="localhost")
assert c.login(username="alex", password="harvest-demo")
page = c.get(f"/households/{main.pk}/").content.decode()
assert "Morgan Family Trust" in page and "lot-row" in page, page[:500]
print("households", Household.objects.count())
print("lots", Lot.objects.filter(account__household=main).count())
print("losses", Disposal.objects.filter(account__household=main, gain_loss__lt=0).count())
print("gains", Disposal.objects.filter(account__household=main, gain_loss__gt=0).count())
print("permanent", WashSaleAdjustment.objects.filter(kind="permanent").count())
print("deferred", WashSaleAdjustment.objects.filter(kind="deferred").count())
print("synthetic", Price.objects.exclude(source="synthetic").count() == 0)
c.logout(); assert c.login(username="chen", password="harvest-demo")
assert c.get(f"/households/{main.pk}/").status_code == 404
"""


ADVISOR = """
import os
from django.test import Client
c = Client(HTTP_HOST="localhost")
assert c.login(username="advisor", password="harvest-demo")
assert c.get("/")["Location"].startswith("/login/verify/")
assert c.post("/login/verify/", {"code": os.environ["CODE"]}).status_code == 302
assert c.get("/").status_code == 200
print("advisor verified")
"""


def run(args, env):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def test_the_demo_runs_on_sqlite_and_is_idempotent(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "HARVESTER_TESTING"}}
    env.update(DEBUG="1", SQLITE_PATH=str(tmp_path / "demo.sqlite3"), DJANGO_SETTINGS_MODULE="harvester.settings")
    run(["migrate", "--noinput"], env)
    first = run(["seed_demo"], env)
    assert "Morgan household" in first and "advisor" in first and "harvest-demo" in first
    second = run(["seed_demo"], env)
    assert "nothing new" in second
    counts = dict(line.split(" ", 1) for line in run(["shell", "--no-imports", "-c", CHECK], env).splitlines())
    assert counts["households"] == "3"
    assert int(counts["lots"]) > 50
    assert int(counts["losses"]) >= 3 and int(counts["gains"]) >= 1
    assert int(counts["permanent"]) >= 1 and int(counts["deferred"]) >= 1
    assert counts["synthetic"] == "True"
    # the advisor must pass a second factor; the seed output says how to get the demo's code (DEBUG only)
    assert "manage.py totp_code advisor" in first
    code = run(["totp_code", "advisor"], env).split()[0]
    assert run(["shell", "--no-imports", "-c", ADVISOR], {**env, "CODE": code}).strip() == "advisor verified"
