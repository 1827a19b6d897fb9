"""Where the CPU went during a load run (Linux /proc; standard library only).

    python loadtest/cpu.py snapshot FILE name=PID [name=PID ...]   # before and after the run
    python loadtest/cpu.py report BEFORE AFTER

A snapshot records, for each named process, the CPU time (user + system) of it and all its descendants,
live or exited (gunicorn workers, PostgreSQL backends, Celery's pool), and the machine's total and idle
CPU time. The
report prints the seconds and the share of one core each group used between the two, how busy the whole
machine was, and the load average: the rest of the busy time is other programs on the machine.
"""

import json
import os
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds so far) of a live process: its own, and that of its children that have
    exited and been waited for (PostgreSQL backends and gunicorn workers come and go)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), sum(int(x) for x in fields[11:15]) / TICKS  # utime stime cutime cstime


def _tree_cpu(root: int, table: dict[int, tuple[int, float]]) -> float:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
        todo.extend(children.get(pid, []))
    return total


def snapshot(path: str, named: list[str]) -> None:
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                table[int(entry)] = stat
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:9]]  # guest time is already in user
    groups = {}
    for item in named:
        name, pid = item.split("=", 1)
        groups[name] = _tree_cpu(int(pid), table) if pid.isdigit() else 0.0
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    data = {"at": time.time(), "groups": groups, "busy": (sum(cpu) - cpu[3] - cpu[4]) / TICKS,
            "total": sum(cpu) / TICKS, "loadavg": load, "cores": os.cpu_count()}
    with open(path, "w") as f:
        json.dump(data, f)


def report(before_path: str, after_path: str) -> None:
    with open(before_path) as f:
        before = json.load(f)
    with open(after_path) as f:
        after = json.load(f)
    wall = after["at"] - before["at"]
    busy = after["busy"] - before["busy"]
    total = after["total"] - before["total"]
    print(f"CPU over {wall:.0f} s on {after['cores']} cores: machine {100 * busy / max(total, 1e-9):.0f}% busy "
          f"(load average {' '.join(before['loadavg'])} before, {' '.join(after['loadavg'])} after)")
    ours = 0.0
    for name, seconds in after["groups"].items():
        used = seconds - before["groups"].get(name, 0.0)
        ours += used
        print(f"  {name:10} {used:7.1f} CPU s  {100 * used / wall:5.0f}% of one core")
    print(f"  {'others':10} {busy - ours:7.1f} CPU s  {100 * (busy - ours) / wall:5.0f}% of one core "
          "(locust, and every program outside this run)")


if __name__ == "__main__":
    if sys.argv[1] == "snapshot":
        snapshot(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
