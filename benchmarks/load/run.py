"""Load benchmark: the busiest pages of the production stack at 50 concurrent users.

    uv run python benchmarks/load/run.py [--users 50] [--duration 30] [--port 8611]

1. Seeds the benchmark's own PostgreSQL database `ps_load` if it is not there yet
   (benchmarks/load/seed.py: 50,000 members, 3,000 groups, 100,000 sessions, ...).
2. Empties its cache database and starts the production stack on 127.0.0.1:<port> with
   `scripts/prod.sh start` (gunicorn with sync workers as behind a buffering proxy, a Celery
   worker and Celery beat, DJANGO_ENV=production), against ps_load and Redis databases 12
   and 13, with its pid files and logs in var/load-bench/; then waits until the worker has
   caught up with the reminders that fell due since the last run.
3. Signs people in through the real sign-in form (CSRF token, password; coordinators also
   complete two-step sign-in with a TOTP code), and keeps their session cookies.
4. For each page, runs locust headless in one process (`--headless -u 50 -r 50`, no pause
   between requests, statistics reset once all users are running) for --duration seconds:
   trivial (`/healthz`: no database, the reference), programme directory (anonymous),
   group list, group page and my sessions (members), coordinator dashboard and referral
   inbox (coordinators).
5. Prints requests per second, p50/p95/p99 latency, errors and the ratio to the trivial
   view for each page, and ends with one line per page:
   load page=<name> users=<n> rps=<n> p95_ms=<n> errors=<n> ratio=<rps / trivial rps>
6. Stops the stack (also on failure or Ctrl+C).

The load generator runs on the same machine as the server and shares its cores; the CPU
time locust used is printed for each page, so the figures can be read honestly. The same
person asks for the same page again and again, so the pages come from the page cache
(peersupport/pagecache.py) after the first request: what is measured is the cost of a
signed-in request for a page whose data has not changed, which is most requests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = common.ROOT
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Result:
    page: str
    users: int
    rps: float
    p50: float
    p95: float
    p99: float
    requests: int
    errors: int
    load_cpu: float  # seconds of CPU the load generator used
    seconds: float
    server_cpu: float = 0.0  # seconds of CPU used by gunicorn and ps_load's PostgreSQL backends


# --- the stack ------------------------------------------------------------------------------


def stack_env(port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(common.environment())
    env["PORT"] = str(port)
    env["SKIP_INSTALL"] = env.get("SKIP_INSTALL", "1")
    env["LOG_LEVEL"] = env.get("LOG_LEVEL", "INFO")
    # Sync workers, as behind a buffering proxy (README, "Production"): they queue requests
    # fairly, where threads let some wait behind a busy worker (see gunicorn.conf.py).
    env["WEB_THREADS"] = env.get("WEB_THREADS", "1")
    return env


def fresh_cache() -> None:
    """Empty the benchmark's own cache database: no pages kept and no sign-in limits left
    from an earlier run (25 sign-ins a run would soon reach the limit of 30 a minute)."""
    import redis

    redis.Redis.from_url(common.REDIS_URL).flushdb()


def prod(action: str, port: int) -> None:
    subprocess.run(
        [str(ROOT / "scripts" / "prod.sh"), action],
        cwd=ROOT,
        env=stack_env(port),
        check=True,
    )


def _proc_cpu_seconds(pid: str, *, with_children: bool = False) -> float:
    """CPU time of a process; with_children adds its exited children (recycled workers)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds() -> float:
    """CPU time so far of the stack's gunicorn processes and of ps_load's database backends."""
    try:
        master = (common.VAR_DIR / "prod" / "web.pid").read_text().strip()
    except FileNotFoundError:
        return 0.0
    database = common.DATABASE_URL.rsplit("/", 1)[-1]
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parent = stat.rsplit(")", 1)[1].split()[1]
        if entry.name == master:
            total += _proc_cpu_seconds(entry.name, with_children=True)
        elif parent == master or f" {database} " in cmdline:
            total += _proc_cpu_seconds(entry.name)
    return total


def worker_cpu_seconds() -> float:
    """CPU time so far of the stack's Celery worker (its main process and pool children)."""
    try:
        main = (common.VAR_DIR / "prod" / "worker.pid").read_text().strip()
    except FileNotFoundError:
        return 0.0
    total = _proc_cpu_seconds(main, with_children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            if parent == main:
                total += _proc_cpu_seconds(entry.name)
    return total


def wait_for_worker(most: float = 180.0, window: float = 3.0, busy: float = 0.1) -> float:
    """Wait until the Celery worker has caught up with what it found to do when the stack
    started (reminders that fell due since the last run): its CPU under `busy` cores for
    `window` seconds. A burst of catching up would otherwise take the cores from the first
    pages measured. Returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < most:
        before = worker_cpu_seconds()
        time.sleep(window)
        if (worker_cpu_seconds() - before) / window < busy:
            break
    return time.monotonic() - start


# --- signing in -----------------------------------------------------------------------------


def _csrf(session: requests.Session, url: str) -> str:
    response = session.get(url, timeout=30)
    response.raise_for_status()
    match = CSRF_INPUT.search(response.text)
    if not match:
        raise RuntimeError(f"no CSRF token on {url}")
    return match.group(1)


def totp_code(secret: str) -> str:
    import base64
    import hashlib
    import hmac
    import struct

    # Do not start a code in the last seconds of its 30-second period.
    if time.time() % 30 > 26:
        time.sleep(30 - time.time() % 30 + 0.5)
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


def sign_in(base: str, email: str, *, totp: bool) -> dict[str, str]:
    """Sign in like a browser; return the cookies of the signed-in session."""
    session = requests.Session()
    login_url = f"{base}/accounts/login/"
    token = _csrf(session, login_url)
    response = session.post(
        login_url,
        data={"csrfmiddlewaretoken": token, "login": email, "password": common.PASSWORD},
        headers={"Referer": login_url},
        timeout=30,
    )
    response.raise_for_status()
    if totp:
        if "/accounts/2fa/authenticate/" not in response.url:
            raise RuntimeError(f"{email}: expected the two-step sign-in page, got {response.url}")
        token = CSRF_INPUT.search(response.text).group(1)
        response = session.post(
            response.url,
            data={"csrfmiddlewaretoken": token, "code": totp_code(common.TOTP_SECRET)},
            headers={"Referer": response.url},
            timeout=30,
        )
        response.raise_for_status()
    if "/accounts/login/" in response.url or "/accounts/2fa/" in response.url:
        raise RuntimeError(f"{email}: sign-in failed (ended on {response.url})")
    return session.cookies.get_dict()


# --- what to ask for ------------------------------------------------------------------------


def lookups(members: int, coordinators: int) -> dict:
    """Ids the pages need, read straight from the benchmark database."""
    import psycopg

    with psycopg.connect(common.DATABASE_URL) as conn:
        member_rows = conn.execute(
            """
            SELECT u.email, MIN(m.group_id)
            FROM accounts_user u
            JOIN groups_membership m ON m.user_id = u.id AND m.status = 'member'
            JOIN groups_group g ON g.id = m.group_id AND g.status = 'open'
            WHERE u.email LIKE 'member%%'
            GROUP BY u.id, u.email
            ORDER BY u.id
            LIMIT %s
            """,
            [members],
        ).fetchall()
        coordinator_rows = conn.execute(
            """
            SELECT u.email, MIN(p.id)
            FROM accounts_user u
            JOIN programmes_staffmembership s ON s.user_id = u.id
            JOIN programmes_programme p ON p.organisation_id = s.organisation_id
            WHERE u.email LIKE 'coordinator%%' AND p.status = 'open'
            GROUP BY u.id, u.email
            ORDER BY u.id
            LIMIT %s
            """,
            [coordinators],
        ).fetchall()
    if len(member_rows) < members or len(coordinator_rows) < coordinators:
        raise RuntimeError("the benchmark database lacks the seeded members or coordinators")
    return {"members": member_rows, "coordinators": coordinator_rows}


def build_targets(base: str, members: int, coordinators: int) -> dict[str, list[dict]]:
    ids = lookups(members, coordinators)
    member_cookies = []
    for email, group_id in ids["members"]:
        member_cookies.append((sign_in(base, email, totp=False), group_id))
    coordinator_cookies = []
    for email, programme_id in ids["coordinators"]:
        coordinator_cookies.append((sign_in(base, email, totp=True), programme_id))
    print(f"Signed in {len(member_cookies)} members and {len(coordinator_cookies)} coordinators.")
    return {
        "trivial": [{"path": "/healthz"}],
        "directory": [{"path": "/programmes/"}],
        "group_list": [{"path": "/groups/", "cookies": c} for c, _g in member_cookies],
        "group_page": [{"path": f"/groups/{g}/", "cookies": c} for c, g in member_cookies],
        "my_sessions": [{"path": "/my/sessions/", "cookies": c} for c, _g in member_cookies],
        "dashboard": [{"path": "/manage/", "cookies": c} for c, _p in coordinator_cookies],
        "referral_inbox": [
            {"path": f"/manage/programmes/{p}/referrals/", "cookies": c}
            for c, p in coordinator_cookies
        ],
    }


def check_targets(base: str, targets: list[dict]) -> None:
    """Each target answers 200 (and warms the server's caches) before it is measured."""
    for target in targets:
        for _ in range(3):
            response = requests.get(
                base + target["path"],
                cookies=target.get("cookies") or {},
                allow_redirects=False,
                timeout=30,
            )
            if response.status_code != 200:
                raise RuntimeError(f"{target['path']} answered {response.status_code}")


# --- running locust -------------------------------------------------------------------------


def run_page(
    base: str, page: str, targets: list[dict], *, users: int, duration: int, work: Path
) -> Result:
    targets_file = work / f"{page}.json"
    targets_file.write_text(json.dumps(targets))
    prefix = work / page
    env = dict(os.environ, LOAD_TARGETS=str(targets_file), LOAD_PAGE=page)
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--reset-stats",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{duration}s",
        "--stop-timeout",
        "5",
        "--host",
        base,
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = server_cpu_seconds()
    started = time.monotonic()
    completed = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=duration + 120
    )
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = server_cpu_seconds() - server_before
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        sys.stderr.write(completed.stdout + completed.stderr)
        raise RuntimeError(f"locust wrote no statistics for {page}")
    with stats_file.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Name"] == "Aggregated"]
    row = rows[0]
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists() and int(row["Failure Count"]):
        print(f"  {page} failures:\n" + failures_file.read_text().strip())
    return Result(
        page=page,
        users=users,
        rps=float(row["Requests/s"]),
        p50=float(row["50%"]),
        p95=float(row["95%"]),
        p99=float(row["99%"]),
        requests=int(row["Request Count"]),
        errors=int(row["Failure Count"]),
        load_cpu=cpu,
        seconds=seconds,
        server_cpu=server,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50, help="concurrent users (default 50)")
    parser.add_argument("--duration", type=int, default=30, help="seconds per page (default 30)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOAD_PORT", 8611)))
    parser.add_argument(
        "--pages", default="", help="comma-separated subset, e.g. directory,dashboard"
    )
    parser.add_argument("--members", type=int, default=20, help="members to sign in")
    parser.add_argument("--coordinators", type=int, default=5, help="coordinators to sign in")
    parser.add_argument(
        "--no-stack",
        action="store_true",
        help="use a stack already running on --port (do not start or stop it)",
    )
    args = parser.parse_args(argv)
    base = f"http://127.0.0.1:{args.port}"

    subprocess.run([sys.executable, str(HERE / "seed.py")], cwd=ROOT, check=True)

    results: list[Result] = []
    if not args.no_stack:
        prod("stop", args.port)  # a stack left over from an interrupted run of this benchmark
    try:
        fresh_cache()
        if not args.no_stack:
            prod("start", args.port)
        print(f"The Celery worker caught up in {wait_for_worker():.0f} s.", flush=True)
        all_targets = build_targets(base, args.members, args.coordinators)
        wanted = [p for p in args.pages.split(",") if p] or list(all_targets)
        unknown = set(wanted) - set(all_targets)
        if unknown:
            parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
        if "trivial" not in wanted:
            wanted.insert(0, "trivial")
        with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
            for page in wanted:
                check_targets(base, all_targets[page])
                result = run_page(
                    base,
                    page,
                    all_targets[page],
                    users=args.users,
                    duration=args.duration,
                    work=Path(tmp),
                )
                results.append(result)
                print(
                    f"{page:15} {result.rps:8.1f} req/s  p50 {result.p50:6.0f} ms  "
                    f"p95 {result.p95:6.0f} ms  p99 {result.p99:6.0f} ms  "
                    f"errors {result.errors}/{result.requests}  "
                    f"server CPU {result.server_cpu * 1000 / max(result.requests, 1):.1f} ms "
                    f"per request ({result.server_cpu / result.seconds:.2f} cores)  "
                    f"locust CPU {result.load_cpu / result.seconds:.2f} cores",
                    flush=True,
                )
    finally:
        if not args.no_stack:
            prod("stop", args.port)

    report(results, cores=os.cpu_count() or 1)
    return 0


def report(results: list[Result], *, cores: int) -> None:
    trivial = next(r for r in results if r.page == "trivial")
    print()
    print(
        f"Machine: {cores} cores, shared by the server (gunicorn, PostgreSQL, Redis, Celery) "
        "and the load generator (one locust process)."
    )
    columns = ("req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "ratio")
    print(f"{'page':15} " + " ".join(f"{c:>7}" for c in columns))
    for r in results:
        print(
            f"{r.page:15} {r.rps:7.1f} {r.p50:7.0f} {r.p95:7.0f} {r.p99:7.0f} "
            f"{r.errors:7d} {r.rps / trivial.rps:6.2f}"
        )
    print()
    for r in results:
        print(
            f"load page={r.page} users={r.users} rps={r.rps:.1f} p95_ms={r.p95:.0f} "
            f"errors={r.errors} ratio={r.rps / trivial.rps:.2f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
