"""Processes and servers the fault drill starts, kills and restarts, and the drill's report."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class Report:
    """Checks grouped in phases: each prints at once, failures are listed again in the summary."""

    def __init__(self):
        self.started = time.monotonic()
        self.phases: list[tuple[str, float, int, int]] = []
        self.failures: list[str] = []
        self.current = ""
        self._passed = self._failed = 0

    def say(self, text: str) -> None:
        print(f"[faults +{time.monotonic() - self.started:5.1f}s] {text}", flush=True)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        """Record a check; `detail` says what went wrong and is printed only when it failed."""
        if ok:
            self._passed += 1
            self.say(f"  ok    {name}")
        else:
            self._failed += 1
            self.failures.append(f"{self.current}: {name}: {detail}")
            self.say(f"  FAIL  {name}: {detail}")
        return ok

    @contextmanager
    def phase(self, name: str):
        self.current, self._passed, self._failed = name, 0, 0
        self.say(f"== {name}")
        started = time.monotonic()
        try:
            yield
        except Exception as exc:  # a crashed phase is a failure with its cause; later phases still run
            import traceback

            traceback.print_exc()
            self.check("the phase ran to its end", False, f"{type(exc).__name__}: {exc}")
        finally:
            self.phases.append((name, time.monotonic() - started, self._passed, self._failed))

    def summary(self) -> int:
        self.say("== summary")
        for name, seconds, passed, failed in self.phases:
            self.say(f"  {name:<28} {seconds:6.1f} s  {passed:3d} ok  {failed:3d} failed")
        self.say(f"  {'total':<28} {time.monotonic() - self.started:6.1f} s")
        if self.failures:
            self.say(f"FAILED: {len(self.failures)} checks")
            for line in self.failures:
                self.say(f"  - {line}")
            return 1
        self.say("all checks passed")
        return 0


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) of a pid, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[2])


class Proc:
    """A subprocess in its own process group (the group id is its pid), so it and every child it forks
    (Celery's pool, gunicorn's workers) are signalled together, by id. The group id is written to
    WORK/pids/ so scripts/faults can end a group the driver could not (the driver itself killed)."""

    def __init__(self, name: str, argv: list[str], work: Path, env: dict | None = None):
        self.name, self.argv, self.work, self.env = name, [str(a) for a in argv], work, env
        self.log = work / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, env=self.env)
        (self.work / "pids").mkdir(exist_ok=True)
        (self.work / "pids" / f"{self.name}.pgid").write_text(str(self.proc.pid))

    @property
    def pgid(self) -> int:
        return self.proc.pid

    def members(self) -> list[int]:
        """Live (not zombie) processes of the group."""
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                stat = _proc_stat(int(entry.name))
                if stat and stat[1] == self.pgid and stat[0] != "Z":
                    out.append(int(entry.name))
        return out

    def _signal(self, sig) -> None:
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            pass

    def _wait_gone(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.proc.poll()
            if not self.members():
                return True
            time.sleep(0.05)
        return False

    def kill9(self, timeout: float = 10) -> bool:
        """SIGKILL the whole group at once (what the OOM killer or a lost host does); True when all are gone."""
        self._signal(signal.SIGKILL)
        gone = self._wait_gone(timeout)
        self.proc.wait(timeout=5)
        (self.work / "pids" / f"{self.name}.pgid").unlink(missing_ok=True)
        return gone

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None:
            return
        if self.members():
            self._signal(signal.SIGTERM)
            if not self._wait_gone(timeout):
                self._signal(signal.SIGKILL)
                self._wait_gone(5)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        (self.work / "pids" / f"{self.name}.pgid").unlink(missing_ok=True)

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def services(command: str, timeout: float = 90) -> None:
    """Run a function of scripts/lib/services.sh (pg_stop -m immediate, redis_restart, ...) against the
    servers scripts/faults started (their PG* and REDIS_* variables are in the environment)."""
    result = subprocess.run(["bash", "-c", f'set -e; source "{ROOT}/scripts/lib/services.sh"; {command}'],
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{command} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")


def wait_until(condition, timeout: float, *, every: float = 0.1, tick=None) -> bool:
    """Poll `condition` until it is true (True) or `timeout` seconds pass (False); `tick` runs each round."""
    deadline = time.monotonic() + timeout
    while True:
        if tick:
            tick()
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
