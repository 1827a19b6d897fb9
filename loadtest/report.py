"""python loadtest/report.py RESULTS.json [--errors-only]: the table per request class and the check.

Reads what the locustfile wrote when the run stopped (every response time, in milliseconds, per request
class, the failures, the requests still unanswered when it stopped, and exceptions in the scenarios' own
code), prints requests, failures, p50, p95, p99 and requests per second per class, then checks: no
failures and no scenario errors anywhere, and the p95 limits of loadtest/spec.py (not with
--errors-only, for smoke runs on shared CI machines). Exit status 1 when any is missed. Percentiles are
nearest-rank over the exact times (locust's own are rounded into buckets). A class with a limit but no
requests (a short run) is reported, not failed.
"""

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtest.spec import GROUPS, P95_LIMITS_MS  # noqa: E402


def percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def rows(results: dict) -> list[dict]:
    seconds = max(1e-9, (results["stop"] or 0) - (results["start"] or 0))
    samples = {name: list(times) for name, times in results["samples"].items()}
    failures = results["failures"]
    # A request still waiting for its answer when the run stopped: the time it had waited joins its class's
    # times, as a lower bound (the slowest requests must not vanish from the percentiles). Not a failure.
    unanswered = results.get("unanswered", {})
    for name, waits in unanswered.items():
        samples.setdefault(name, []).extend(waits)
    classes = {name: (times, failures.get(name, 0), len(unanswered.get(name, []))) for name, times in samples.items()}
    for group, members in GROUPS.items():
        times = [t for m in members for t in samples.get(m, [])]
        if times:
            classes[group] = (times, sum(failures.get(m, 0) for m in members),
                              sum(len(unanswered.get(m, [])) for m in members))
    out = []
    for name in sorted(classes, key=lambda n: (n.split(":")[0], n)):
        times, failed, cut = classes[name]
        ordered = sorted(times)
        out.append({
            "name": name, "requests": len(ordered), "failures": failed, "unanswered": cut,
            "p50": percentile(ordered, 50), "p95": percentile(ordered, 95), "p99": percentile(ordered, 99),
            "rps": (len(ordered) - cut) / seconds, "limit": P95_LIMITS_MS.get(name), "group": name in GROUPS,
        })
    total = sorted(t for times in samples.values() for t in times)
    cut = sum(len(w) for w in unanswered.values())
    out.append({
        "name": "all requests", "requests": len(total), "failures": sum(failures.values()), "unanswered": cut,
        "p50": percentile(total, 50), "p95": percentile(total, 95), "p99": percentile(total, 99),
        "rps": (len(total) - cut) / seconds, "limit": None, "group": True,
    })
    return out


def main(path: str, *, errors_only: bool = False) -> int:
    results = json.loads(Path(path).read_text())
    table = rows(results)
    width = max(len(r["name"]) for r in table)
    print(f"{'request class':{width}}  {'requests':>8} {'fail':>5} {'cut':>4} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'req/s':>7}  p95 limit")
    missed = []
    for r in table:
        verdict = ""
        if r["limit"] is not None:
            ok = r["p95"] <= r["limit"]
            verdict = f"<= {r['limit']} ms {'ok' if ok else 'over'}"
            if not ok and not errors_only:
                missed.append(f"{r['name']}: p95 {r['p95']:.0f} ms > {r['limit']} ms")
        if r["failures"] and not r["group"]:
            missed.append(f"{r['name']}: {r['failures']} failures")
        print(f"{r['name']:{width}}  {r['requests']:>8} {r['failures']:>5} {r['unanswered']:>4} {r['p50']:>8.1f} "
              f"{r['p95']:>8.1f} {r['p99']:>8.1f} {r['rps']:>7.1f}  {verdict}")
    if any(r["unanswered"] for r in table):
        print("\ncut: requests still waiting for their answer when the run stopped; the time they had waited is "
              "among the class's times\n(a lower bound), the request is not counted as failed. req/s counts answers.")
    for error in results.get("user_errors", []):
        missed.append(f"scenario error: {error}")
    absent = [name for name in P95_LIMITS_MS if not any(r["name"] == name for r in table)]
    if absent:
        print(f"\nNo requests (the run was too short for them): {', '.join(absent)}")
    seconds = max(1e-9, (results["stop"] or 0) - (results["start"] or 0))
    if "client_cpu" in results:
        print(f"\nlocust (the client) used {results['client_cpu']:.1f} CPU s, {100 * results['client_cpu'] / seconds:.0f}% "
              "of one core")
    print()
    if missed:
        print("THRESHOLDS MISSED:")
        for line in missed:
            print(f"  - {line}")
        return 1
    print("No failures." if errors_only else "All thresholds met: no failures, every p95 within its limit.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], errors_only="--errors-only" in sys.argv[2:]))
