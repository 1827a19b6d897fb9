"""The web half of the fault drill: gunicorn with production settings (4 worker processes: real
concurrency), signed-in sessions made on the server, and requests over HTTP.

web-concurrency  20 simultaneous approvals of one joint proposal by its two owners (half through the API,
                 half through the page's form): exactly one approval per owner, one transition to
                 'approved', two audit events, every other request a 409. Then four simultaneous
                 submissions of its execution (two forms, two API calls): one execution, its trades once.
web-postgres     an execution waits, mid-transaction, on a lock the drill holds (its trades and execution
                 row are written, uncommitted) while PostgreSQL crashes (pg_ctl -m immediate), and again
                 while it restarts (-m fast): the answer is a clean 503 (JSON for /api/, a short page
                 otherwise), nothing of the write is kept, pages answer 503 while it is down, once it
                 is back reads answer 200 until every gunicorn process holds a new connection (each
                 process starts with a dead one: only CONN_HEALTH_CHECKS replaces it in time), the
                 retried execution is recorded once, and the worker's ledger recompute runs after it.
"""

import http.client
import json
import os
import secrets
import socket
import threading
import time
from decimal import ROUND_DOWN, Decimal
from typing import NamedTuple
from urllib.parse import urlencode

from ops.procs import BIN, Proc, services, wait_until

GUNICORN_WORKERS = 4
WEB_APPLICATION = "harvester-drill-web"


class Response(NamedTuple):
    status: int
    headers: dict
    body: str

    def short(self) -> str:
        return f"{self.status} {self.body[:160]!r}"


class Client:
    """One signed-in browser (or none): its session and CSRF cookies, and the CSRF header."""

    def __init__(self, port: int, session_key: str | None = None, csrf: str | None = None):
        self.port, self.session_key, self.csrf = port, session_key, csrf

    def request(self, method: str, path: str, *, form: dict | None = None, body: dict | None = None,
                timeout: float = 90) -> Response:
        from django.conf import settings

        headers = {"Host": f"127.0.0.1:{self.port}"}
        cookies = []
        if self.session_key:
            cookies.append(f"{settings.SESSION_COOKIE_NAME}={self.session_key}")
        if self.csrf:
            cookies.append(f"{settings.CSRF_COOKIE_NAME}={self.csrf}")
            headers["X-CSRFToken"] = self.csrf
        if cookies:
            headers["Cookie"] = "; ".join(cookies)
        data = None
        if form is not None:
            data, headers["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
        elif body is not None:
            data, headers["Content-Type"] = json.dumps(body), "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()},
                            response.read().decode(errors="replace"))
        finally:
            conn.close()


def at_once(calls) -> list:
    """Run the calls in threads released together; each result, or the exception's text."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(30)
            results[i] = call()
        except Exception as exc:  # the outcome is what the checks look at
            results[i] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def status_of(result) -> int | str:
    return result.status if isinstance(result, Response) else result


class Web:
    def __init__(self, report, work, drill):
        self.report, self.work, self.drill = report, work, drill
        self.gunicorn: Proc | None = None
        self.port = 0
        self.clients: dict[str, Client] = {}
        self.joint = None  # the proposal of the concurrency phase

    # ---- gunicorn

    def start(self) -> None:
        if self.gunicorn is not None:
            return
        started = time.monotonic()
        collect = self.drill.collectstatic
        if collect is None or collect.proc.wait(timeout=300) != 0:
            raise RuntimeError(f"collectstatic failed:\n{collect.tail() if collect else 'it was not started'}")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        # Its connections carry a name, so the drill can count them in pg_stat_activity.
        url = os.environ["DATABASE_URL"]
        env = {**os.environ, "DATABASE_URL": f"{url}{'&' if '?' in url else '?'}application_name={WEB_APPLICATION}"}
        self.gunicorn = Proc("gunicorn", [BIN / "gunicorn", "harvester.wsgi", "-b", f"127.0.0.1:{self.port}",
                                          "-w", str(GUNICORN_WORKERS), "--preload", "--timeout", "90", "--graceful-timeout", "5",
                                          "--access-logfile", "-", "--error-logfile", "-"], self.work, env=env)
        self.gunicorn.start()
        anonymous = Client(self.port)

        def up():
            if self.gunicorn.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.gunicorn.tail()}")
            try:
                return anonymous.request("GET", "/login/", timeout=5).status == 200
            except OSError:
                return False

        if not wait_until(up, 90, every=0.3):
            raise RuntimeError(f"gunicorn did not answer /login/ within 90 s:\n{self.gunicorn.tail()}")
        self.report.say(f"  gunicorn -w {GUNICORN_WORKERS} on 127.0.0.1:{self.port} (DEBUG=0, static files collected) "
                        f"up in {time.monotonic() - started:.1f} s")

    def stop(self) -> None:
        if self.gunicorn is not None:
            self.gunicorn.stop()

    def client(self, user) -> Client:
        from ops.drill_data import session_for

        if user.username not in self.clients:
            csrf = secrets.token_hex(16)
            self.clients[user.username] = Client(self.port, session_for(user, csrf_secret=csrf), csrf)
        return self.clients[user.username]

    # ---- proposals

    def pick(self):
        """A joint-account proposal awaiting approval, and two more in two other households; none in a
        household where the drill executed something (its trades may have changed what holds there)."""
        from harvester.models import HarvestProposal

        executed = HarvestProposal.objects.filter(status="executed").values("household_id")
        awaiting = list(HarvestProposal.objects.filter(status="awaiting_approval").exclude(household_id__in=executed)
                        .select_related("account").order_by("household_id", "pk"))
        joint = next((p for p in awaiting if p.account.kind == "joint"), None)
        others, seen = [], {joint.household_id if joint else None}
        for p in awaiting:
            if p.household_id not in seen and len(others) < 2:
                others.append(p)
                seen.add(p.household_id)
        return joint, others

    @staticmethod
    def owners(proposal):
        from harvester import approvals

        return _users({uid for seat in approvals.proposal_approvers(proposal).seats for uid in seat.user_ids})

    @staticmethod
    def approve(proposal) -> None:
        """Every approver approves, in this process (setting the stage, not what is tested)."""
        from harvester import approvals

        for user in Web.owners(proposal):
            proposal.refresh_from_db()
            if proposal.status == "awaiting_approval":
                approvals.proposal_approve(proposal=proposal, user=user, version=proposal.version)
        proposal.refresh_from_db()
        if proposal.status != "approved":
            raise RuntimeError(f"proposal {proposal.pk} is {proposal.status} after every owner approved it")

    @staticmethod
    def fills(proposal) -> dict:
        from django.utils import timezone

        from lots.models import Price

        buy = Price.objects.filter(security_id=proposal.buy_security_id).order_by("-date").values_list("close", flat=True)[0]
        return {"trade_date": timezone.localdate().isoformat(), "sell_price": str(proposal.price),
                "sell_quantity": str(proposal.sell_quantity), "buy_price": str(buy),
                "buy_quantity": str((proposal.proceeds / buy).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)),
                "sell_fees": "0", "buy_fees": "0"}

    # ---- phases

    def phase_concurrency(self) -> None:
        from harvester.models import Approval, AuditEvent, Execution, HarvestProposal
        from lots.models import Transaction
        from ops.drill_data import advisor

        check = self.report.check
        self.start()
        joint, _ = self.pick()
        if not check("a joint proposal awaits approval", joint is not None, "none: nothing to approve"):
            return
        self.joint = joint
        owners = self.owners(joint)
        if not check("the joint account has two approvers", len(owners) == 2, f"{owners}"):
            return
        clients = [self.client(u) for u in owners]
        version = joint.version
        calls = []
        for i in range(20):
            client = clients[i % 2]
            if (i // 2) % 2 == 0:
                calls.append(lambda c=client: c.request("POST", f"/api/proposals/{joint.pk}/approve/",
                                                        body={"version": version}))
            else:
                calls.append(lambda c=client: c.request("POST", f"/proposals/{joint.pk}/approve/",
                                                        form={"version": version}))
        started = time.monotonic()
        results = at_once(calls)
        self.report.say(f"  20 approvals answered in {time.monotonic() - started:.1f} s: "
                        f"{sorted(str(status_of(r)) for r in results)}")
        ok = [i for i, r in enumerate(results) if isinstance(r, Response) and r.status in (200, 302)]
        check("no error answer (only success or 409)",
              all(isinstance(r, Response) and r.status in (200, 302, 409) for r in results),
              f"{[r.short() if isinstance(r, Response) else r for r in results if status_of(r) not in (200, 302, 409)][:3]}")
        check("exactly one success per owner", sorted(i % 2 for i in ok) == [0, 1],
              f"successes from requests {ok} (even: {owners[0].username}, odd: {owners[1].username})")
        rows = list(Approval.objects.filter(proposal=joint).values_list("owner__user__username", "proposal_version",
                                                                         "decision"))
        check("exactly one approval recorded per owner", sorted(rows) == sorted((u.username, version, "approve")
                                                                               for u in owners), f"{rows}")
        joint.refresh_from_db()
        check("one transition: the proposal is approved", joint.status == "approved", f"status {joint.status}")
        events = list(AuditEvent.objects.filter(action="proposal.approve", object_id=str(joint.pk))
                      .values_list("after", flat=True))
        check("one audit event per approval, one of them meets the quorum",
              len(events) == 2 and [e.get("quorum_met") for e in events].count(True) == 1, f"{events}")

        # A double-submitted execution: two forms and two API calls at the same moment.
        desk = self.client(advisor())
        fills = self.fills(joint)
        calls = [lambda: desk.request("POST", f"/proposals/{joint.pk}/execute/", form=fills)] * 2 + [
            lambda: desk.request("POST", f"/api/proposals/{joint.pk}/execute/", body=fills)] * 2
        results = at_once(calls)
        self.report.say(f"  4 executions answered: {[status_of(r) for r in results]}")
        wins = [r for r in results if isinstance(r, Response) and r.status in (200, 302)]
        refused = [r for r in results if isinstance(r, Response) and r.status == 409]
        check("exactly one execution request succeeds", len(wins) == 1,
              f"{[r.short() if isinstance(r, Response) else r for r in results]}")
        check("the others are told it was already executed",
              len(refused) == 3 and all("already executed" in r.body for r in refused),
              f"{[r.short() for r in refused]}")
        executions = Execution.objects.filter(proposal=joint).count()
        trades = Transaction.objects.filter(source_file=f"proposal:{joint.pk}").count()
        sells = len([e for e in joint.lots if Decimal(str(e["quantity"])) > 0])
        check("one Execution row", executions == 1, f"{executions}")
        check("its trades once (a sell per lot and the buy)", trades == sells + 1, f"{trades} trades, {sells + 1} expected")
        audited = AuditEvent.objects.filter(action="proposal.execute", object_id=str(joint.pk)).count()
        check("one 'proposal.execute' audit event", audited == 1, f"{audited}")
        check("the proposal is executed", HarvestProposal.objects.get(pk=joint.pk).status == "executed", "")

    def phase_postgres(self) -> None:
        from django.db import connection

        from harvester.models import Execution
        from ops.drill_data import advisor

        check = self.report.check
        self.start()
        _, others = self.pick()
        if not check("two more proposals await approval, in two other households", len(others) == 2, f"{others}"):
            return
        api_case, page_case = others
        for p in (api_case, page_case):
            self.approve(p)
        desk = self.client(advisor())
        probe = self.joint or api_case
        self.every_process_connected(desk, probe, "before")

        def crash():
            services("pg_stop -m immediate")
            down = [desk.request("GET", f"/proposals/{probe.pk}/"), desk.request("GET", f"/api/proposals/{probe.pk}/")]
            self.check_503(down[0], api=False, what="a page while PostgreSQL is down")
            self.check_503(down[1], api=True, what="an API read while PostgreSQL is down")
            services("_pg_ctl_start")

        self.write_during_outage("API execution, PostgreSQL crashes (-m immediate) and comes back", api_case,
                                 lambda: desk.request("POST", f"/api/proposals/{api_case.pk}/execute/",
                                                      body=self.fills(api_case)), crash, api=True)
        self.every_process_connected(desk, probe, "after the crash")
        self.write_during_outage("page execution, PostgreSQL restarts (-m fast)", page_case,
                                 lambda: desk.request("POST", f"/proposals/{page_case.pk}/execute/",
                                                      form=self.fills(page_case)),
                                 lambda: services("pg_restart"), api=False)
        connection.close()
        self.every_process_connected(desk, probe, "after the restart")
        again = desk.request("POST", f"/api/proposals/{api_case.pk}/execute/", body=self.fills(api_case))
        check("the retried API execution succeeds", again.status == 200, again.short())
        again = desk.request("POST", f"/proposals/{page_case.pk}/execute/", form=self.fills(page_case))
        check("the retried page execution succeeds", again.status == 302, again.short())
        for p in (api_case, page_case):
            check(f"proposal {p.pk}: one execution", Execution.objects.filter(proposal=p).count() == 1,
                  f"{Execution.objects.filter(proposal=p).count()}")

        from lots.models import Disposal

        recomputed = wait_until(lambda: all(Disposal.objects.filter(sale__source_file=f"proposal:{p.pk}").exists()
                                            for p in (api_case, page_case)), 60, every=0.3)
        check("the worker recomputed both ledgers after the restarts (the realized losses exist)", recomputed,
              f"no disposal for the executed sells after 60 s\n{self.drill.workers[-1].tail() if self.drill.workers else ''}")

    # ---- helpers

    def every_process_connected(self, desk, probe, when: str) -> None:
        """Reads until every gunicorn process holds a database connection (each process's connection is
        named in pg_stat_activity); every read must answer 200. After a restart each process starts with
        a dead connection, which only CONN_HEALTH_CHECKS replaces before the request uses it."""
        from django.db import connection

        reads = [lambda: desk.request("GET", f"/api/proposals/{probe.pk}/")] * 8 + [
            lambda: desk.request("GET", f"/proposals/{probe.pk}/")] * 8
        failed, held = [], 0
        for _ in range(6):
            failed += [r.short() if isinstance(r, Response) else r for r in at_once(reads) if status_of(r) != 200]
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [WEB_APPLICATION])
                held = cursor.fetchone()[0]
            if held >= GUNICORN_WORKERS:
                break
        self.report.check(f"{when}: simultaneous reads answer 200 until all {GUNICORN_WORKERS} gunicorn processes "
                          "hold a connection", not failed and held >= GUNICORN_WORKERS,
                          f"{held} processes connected; failed reads: {failed[:3]}")

    def counts(self, proposal) -> dict:
        from harvester.models import Approval, AuditEvent, Execution, HarvestProposal, Notification
        from lots.models import Lot, Transaction

        return {"trades": Transaction.objects.count(), "executions": Execution.objects.count(),
                "audit events": AuditEvent.objects.count(), "notifications": Notification.objects.count(),
                "approvals": Approval.objects.count(), "lots": Lot.objects.count(),
                "status": HarvestProposal.objects.get(pk=proposal.pk).status}

    def write_during_outage(self, label, proposal, send, outage, *, api: bool) -> None:
        """Hold the audit table (SHARE lock: reads pass, inserts wait) so the request stops inside its
        transaction after writing the trades and the execution row, cause the outage, and check the
        answer and that nothing of the write was kept."""
        import psycopg
        from django.db import connection

        from ops.backup import libpq_url

        check = self.report.check
        self.report.say(f"  -- {label}")
        before = self.counts(proposal)
        holder = psycopg.connect(libpq_url(os.environ["DATABASE_URL"]))
        holder.execute("LOCK TABLE harvester_auditevent IN SHARE MODE")
        result: list = []
        thread = threading.Thread(target=lambda: result.append(send()))
        thread.start()
        waiting: dict = {}

        def stuck():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                               [holder.info.backend_pid])
                rows = [r for r in cursor.fetchall() if "harvester_auditevent" in r[1]]
                if not rows:
                    return False
                cursor.execute("SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                               "WHERE l.pid = %s AND l.granted AND l.mode = 'RowExclusiveLock'", [rows[0][0]])
                waiting["tables"] = sorted(r[0] for r in cursor.fetchall())
                return True

        try:
            in_flight = wait_until(stuck, 30, every=0.05)
            check("the request is mid-transaction: trades and execution written, waiting to audit",
                  in_flight and {"lots_transaction", "harvester_execution"} <= set(waiting.get("tables", [])),
                  f"tables it wrote: {waiting.get('tables')}" if in_flight else "it never reached the audit insert")
            outage()
        finally:
            try:
                holder.close()
            except Exception:  # gone with the server
                pass
        thread.join(90)
        connection.close()
        response = result[0] if result else None
        self.check_503(response, api=api, what="the write in flight")
        after = self.counts(proposal)
        check("no partial write: row counts and the proposal's status as before", after == before,
              f"before {before}, after {after}")

    def check_503(self, response, *, api: bool, what: str) -> None:
        check = self.report.check
        if not check(f"{what}: 503", isinstance(response, Response) and response.status == 503,
                     response.short() if isinstance(response, Response) else f"no answer: {response}"):
            return
        clean = "Traceback" not in response.body and "Server Error" not in response.body
        check(f"{what}: Retry-After and no traceback", clean and "retry-after" in response.headers, response.short())
        if api:
            try:
                body = json.loads(response.body)
            except ValueError:
                body = {}
            check(f"{what}: JSON {{detail, code: database_unavailable}}",
                  response.headers.get("content-type", "").startswith("application/json")
                  and body.get("code") == "database_unavailable" and body.get("detail"), response.short())
        else:
            check(f"{what}: a short HTML page", response.headers.get("content-type", "").startswith("text/html")
                  and "temporarily unavailable" in response.body and len(response.body) < 2000, response.short())


def _users(ids) -> list:
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(pk__in=ids).order_by("pk"))
