#!/usr/bin/env python3
"""Measuring helpers for bench/run. Each subcommand prints one JSON object on stdout.

  latency MODE URL LOG N [--warmup W]   sequential end-to-end latency, send -> confirmation line
        MODE wait   POST URL?wait=10, time until the answer (written after the log line); every
                    answer's id is then checked to be in LOG already
        MODE tail   POST URL, then read LOG's appended bytes in a tight loop until the id's line
        MODE sync   POST URL (a synchronous pipeline: Flask), time until the answer; the id is
                    then checked to be in LOG already
  count KIND LOG [ACK_IDS]              confirmation lines of a log: KIND gr|flask (JSON lines with
                                        "id" and "status") or lines (one id per line: webhook);
                                        with ACK_IDS, which acknowledged ids have no line
  drain URL DEADLINE_S                  wait until Ghost Runner's /metrics queue depth is 0
  stable FILE QUIET_S DEADLINE_S        wait until FILE has not grown for QUIET_S seconds
  metric URL NAME                       one value from /metrics (summed over label sets)
  wrkcount FILE                         the COUNT line that bench/count.lua printed
  httptime URL N                        median/p90 of N GETs of URL over one keep-alive connection
  startup BIN N ARGS...                 N starts of BIN ARGS (a fresh state dir each: ARGS may use
                                        {state}), ms from spawn to the "listening on" line
  run DIR CMD...                        wall ms, user/sys ms and peak RSS of CMD run in DIR
  profile TOOL WORK                     bench/run's profile files gathered into one object
  journal STATE [ACK_IDS]               a stopped daemon's journal by status; acked ids missing from it
  sqlplan STATE                         plans and times of the journal's growing queries
  exectime N CMD...                     wall ms of N runs of CMD to its exit
  heaptrack FILE                        heaptrack_print's summary and top peak consumers
  proc PID                              VmRSS, RssAnon, VmHWM (kB), CPU ms, threads of PID
"""
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def out(obj):
    print(json.dumps(obj))


def pct(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def summary_ms(samples_ns):
    ms = [v / 1e6 for v in samples_ns]
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 3), "p90_ms": round(pct(ms, 90), 3),
            "p99_ms": round(pct(ms, 99), 3), "mean_ms": round(statistics.fmean(ms), 3),
            "max_ms": round(max(ms), 3), "min_ms": round(min(ms), 3)}


class LogTail:
    """Reads what is appended to a file, without inotify: pread from the last offset."""

    def __init__(self, path):
        while not os.path.exists(path):
            time.sleep(0.01)
        self.fd = os.open(path, os.O_RDONLY)
        self.off = 0
        self.buf = b""
        self.seen = set()

    def poll(self):
        data = os.pread(self.fd, 1 << 20, self.off)
        if not data:
            return False
        self.off += len(data)
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        for ln in lines:
            m = re.search(rb'"id":\s*"([^"]*)"', ln)
            self.seen.add(m.group(1).decode() if m else ln.decode(errors="replace").strip())
        return True

    def wait_for(self, pid, deadline_s=30.0):
        end = time.monotonic() + deadline_s
        while True:
            self.poll()
            if pid in self.seen:
                return time.perf_counter_ns()
            if time.monotonic() > end:
                raise SystemExit("latency: %s never reached the log" % pid)
            time.sleep(0.00005)  # 50 us: fine-grained, without starving the daemon's 2 cores


def envelope(pid):
    # The same legacy edit as bench/count.lua's rotate mode: matches every time, rotates a.txt.
    return json.dumps({"id": pid, "target_file": "a.txt",
                       "patch": {"pattern": "^(.)(.*)$", "replacement": "\\2\\1"},
                       "description": "latency"}).encode()


def latency_concurrent(url, log, n, senders, warmup):
    """K senders, each on its own keep-alive connection, each sending its next patch as soon as
    the previous one's confirmation line is in the log: send -> line, for every patch."""
    import threading
    u = urllib.parse.urlsplit(url)
    tail = LogTail(log)
    seen_at = {}
    lock = threading.Lock()
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            if tail.poll():
                now = time.perf_counter_ns()
                with lock:
                    for pid in tail.seen:
                        seen_at.setdefault(pid, now)
                tail.seen.clear()
            time.sleep(0.00005)

    run = "%d-%d" % (os.getpid(), int(time.time()))
    samples, statuses, errors = [], {}, []

    def send(k):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        per = (warmup + n) // senders
        try:
            for i in range(per):
                pid = "lat-c%d-%s-%d-%d" % (senders, run, k, i)
                t0 = time.perf_counter_ns()
                conn.request("POST", u.path, body=envelope(pid),
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                end = time.monotonic() + 30
                while True:
                    with lock:
                        t1 = seen_at.get(pid)
                    if t1 is not None or time.monotonic() > end:
                        break
                    time.sleep(0.00005)
                with lock:
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                    if t1 is None:
                        errors.append(pid)
                    elif i >= warmup // senders:
                        samples.append(t1 - t0)
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            errors.append(repr(e))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    threads = [threading.Thread(target=send, args=(k,)) for k in range(senders)]
    t_start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t_start
    stop.set()
    if errors:
        raise SystemExit("latency: %d patches never reached the log (%s)" % (len(errors), errors[:3]))
    res = summary_ms(samples)
    res.update({"mode": "concurrent", "senders": senders, "statuses": statuses, "warmup": warmup,
                "per_s": round((warmup + n) / wall, 1)})
    return res


def cmd_latency(args):
    mode, url, log, n = args[0], args[1], args[2], int(args[3])
    if mode == "concurrent":
        senders = int(args[args.index("--senders") + 1]) if "--senders" in args else 8
        warmup = int(args[args.index("--warmup") + 1]) if "--warmup" in args else 16
        out(latency_concurrent(url, log, n, senders, warmup))
        return
    warmup = 20
    if "--warmup" in args:
        warmup = int(args[args.index("--warmup") + 1])
    u = urllib.parse.urlsplit(url)
    path = u.path + ("?wait=10" if mode == "wait" else "")
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    tail = LogTail(log) if mode == "tail" else None
    run = "%d-%d" % (os.getpid(), int(time.time()))
    samples = []
    statuses = {}
    missing_after_answer = 0
    for i in range(warmup + n):
        pid = "lat-%s-%s-%d" % (mode, run, i)
        body = envelope(pid)
        t0 = time.perf_counter_ns()
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        t1 = time.perf_counter_ns()
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if mode == "tail":
            t1 = tail.wait_for(pid)
        else:
            # The answer must come after the confirmation line: check the log has it now.
            if tail is None:
                tail = LogTail(log)
            tail.poll()
            if pid not in tail.seen:
                missing_after_answer += 1
        if i >= warmup:
            samples.append(t1 - t0)
    res = summary_ms(samples)
    res.update({"mode": mode, "statuses": statuses, "warmup": warmup,
                "answered_before_log_line": missing_after_answer})
    out(res)


def iso_ms(ts):
    """Milliseconds since the epoch of an ISO 8601 time ("2026-11-23T22:45:00.123Z"), or of a
    number of seconds (the Flask runner's "ts")."""
    if isinstance(ts, (int, float)):
        return ts * 1000.0
    from datetime import datetime
    try:
        return datetime.fromisoformat(str(ts).replace("Z", "+00:00")).timestamp() * 1000.0
    except ValueError:
        return None


def read_log(kind, log, times=None):
    ids = {}
    status = {}
    lines = 0
    if os.path.exists(log):
        with open(log, "rb") as f:
            for ln in f:
                ln = ln.strip()
                if not ln:
                    continue
                lines += 1
                if kind == "lines":
                    pid, st = ln.decode(errors="replace"), "ran"
                else:
                    try:
                        o = json.loads(ln)
                    except ValueError:
                        continue
                    pid, st = str(o.get("id")), o.get("status", "?")
                    if times is not None and "ts" in o:
                        t = iso_ms(o["ts"])
                        if t is not None:
                            times.append(t)
                ids[pid] = ids.get(pid, 0) + 1
                status[st] = status.get(st, 0) + 1
    return lines, ids, status


def cmd_count(args):
    kind, log = args[0], args[1]
    times = []
    lines, ids, status = read_log(kind, log, times)
    res = {"lines": lines, "unique_ids": len(ids), "statuses": status,
           "duplicated_ids": sum(1 for v in ids.values() if v > 1)}
    if times:
        res["first_ts"] = min(times) / 1000.0
        res["last_ts"] = max(times) / 1000.0
    if len(args) > 2 and os.path.exists(args[2]):
        with open(args[2]) as f:
            acked = [ln.strip() for ln in f if ln.strip()]
        res["acked_ids"] = len(acked)
        res["acked_unique"] = len(set(acked))
        res["acked_not_confirmed"] = sum(1 for a in set(acked) if a not in ids)
        res["acked_applied"] = None  # filled for JSON logs below
        if kind != "lines":
            applied = set()
            with open(log, "rb") as f:
                for ln in f:
                    try:
                        o = json.loads(ln)
                    except ValueError:
                        continue
                    if o.get("status") == "applied":
                        applied.add(str(o.get("id")))
            res["acked_applied"] = sum(1 for a in set(acked) if a in applied)
    out(res)


def metrics(url):
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=10) as r:
        return r.read().decode()


def metric_value(text, name):
    total = None
    for ln in text.splitlines():
        if ln.startswith(name + " ") or ln.startswith(name + "{"):
            v = float(ln.rsplit(" ", 1)[1])
            total = v if total is None else total + v
    return total


def cmd_metric(args):
    out({"name": args[1], "value": metric_value(metrics(args[0]), args[1])})


def cmd_drain(args):
    url, deadline = args[0], float(args[1])
    t0 = time.monotonic()
    while True:
        try:
            depth = metric_value(metrics(url), "ghost_runner_queue_depth")
        except OSError:
            depth = None
        if depth == 0:
            out({"drained": True, "waited_s": round(time.monotonic() - t0, 2)})
            return
        if time.monotonic() - t0 > deadline:
            out({"drained": False, "waited_s": round(time.monotonic() - t0, 2), "depth": depth})
            return
        time.sleep(0.1)


def cmd_stable(args):
    path, quiet, deadline = args[0], float(args[1]), float(args[2])
    t0 = time.monotonic()
    last, since, since_wall = -1, time.monotonic(), time.time()
    while True:
        size = os.path.getsize(path) if os.path.exists(path) else 0
        now = time.monotonic()
        if size != last:
            last, since, since_wall = size, now, time.time()
        elif now - since >= quiet:
            out({"stable": True, "waited_s": round(now - t0, 2),
                 "last_growth_s": round(since - t0, 2), "last_growth_at": since_wall})
            return
        if now - t0 > deadline:
            out({"stable": False, "waited_s": round(now - t0, 2), "last_growth_at": since_wall})
            return
        time.sleep(0.05)


def cmd_wrkcount(args):
    with open(args[0]) as f:
        for ln in f:
            if ln.startswith("COUNT "):
                print(ln[6:].strip())
                return
    raise SystemExit("wrkcount: no COUNT line in %s" % args[0])


def cmd_httptime(args):
    url, n = args[0], int(args[1])
    u = urllib.parse.urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    samples, size, status = [], 0, None
    for i in range(n + 2):
        t0 = time.perf_counter_ns()
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        t1 = time.perf_counter_ns()
        status, size = r.status, len(body)
        if i >= 2:
            samples.append(t1 - t0)
    res = summary_ms(samples)
    res.update({"status": status, "bytes": size})
    out(res)


def cmd_startup(args):
    binary, n, rest = args[0], int(args[1]), args[2:]
    samples = []
    for _ in range(n):
        state = tempfile.mkdtemp(prefix="gr-start-")
        argv = [binary] + [a.replace("{state}", state) for a in rest]
        t0 = time.perf_counter_ns()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        t1 = None
        for ln in p.stdout:
            if b"listening on" in ln:
                t1 = time.perf_counter_ns()
                break
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        shutil.rmtree(state, ignore_errors=True)
        if t1 is None:
            raise SystemExit("startup: no 'listening on' line from %s" % argv)
        samples.append(t1 - t0)
    out(summary_ms(samples))


def cmd_run(args):
    """run DIR CMD...: wall time and peak RSS of CMD run in DIR, its output discarded."""
    import resource
    cwd, argv = args[0], args[1:]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter_ns()
    p = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t1 = time.perf_counter_ns()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit("run: %s exited %d: %s" % (argv[0], p.returncode,
                                                     p.stderr.decode(errors="replace")[-500:]))
    out({"ms": round((t1 - t0) / 1e6, 1), "maxrss_kb": after.ru_maxrss,
         "user_ms": round((after.ru_utime - before.ru_utime) * 1000),
         "sys_ms": round((after.ru_stime - before.ru_stime) * 1000)})


def cmd_journal(args):
    """journal STATE_DIR [ACK_IDS]: what a stopped daemon's SQLite journal holds, by status, and
    whether every acknowledged patch id is in it (read-only, straight from the file)."""
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(args[0], "journal.sqlite"), uri=True)
    by_status = dict(db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status"))
    res = {"deliveries": sum(by_status.values()), "by_status": by_status}
    if len(args) > 1 and os.path.exists(args[1]):
        ids = set(r[0] for r in db.execute("SELECT patch_id FROM deliveries"))
        with open(args[1]) as f:
            acked = set(ln.strip() for ln in f if ln.strip())
        res["acked"] = len(acked)
        res["acked_not_in_journal"] = len(acked - ids)
    db.close()
    out(res)


def cmd_sqlplan(args):
    """sqlplan STATE_DIR: the journal queries that grow with the journal (their SQL as in
    core/deliveryjournal.cpp), run on a stopped daemon's journal: SQLite's plan and the median
    time of 5 runs each."""
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(args[0], "journal.sqlite"), uri=True)
    some = db.execute("SELECT patch_id FROM deliveries ORDER BY seq LIMIT 1 OFFSET "
                      "(SELECT COUNT(*) / 2 FROM deliveries)").fetchone()[0]
    top = db.execute("SELECT COALESCE(MAX(seq), 0) FROM deliveries").fetchone()[0]
    mid = top // 2
    queries = [
        ("intake dedupe (each request)", "SELECT id FROM deliveries WHERE patch_id = ? AND replay_of IS NULL", (some,)),
        ("the dispatcher's next page of the queue (queuedAfter, 256 at a time, from the middle)",
         "SELECT seq, id, patch_id FROM deliveries WHERE status = 'queued' AND seq > ? AND seq <= ? "
         "ORDER BY seq LIMIT ?", (mid, top, 256)),
        ("/deliveries?id= (patch id filter)", "SELECT seq FROM deliveries WHERE patch_id = ? ORDER BY seq DESC LIMIT 50", (some,)),
        ("/metrics (and a relay's /health): oldest pending",
         "SELECT received_at FROM deliveries WHERE seq = (SELECT MIN(s) FROM ("
         "SELECT MIN(seq) AS s FROM deliveries WHERE status = 'queued' UNION ALL "
         "SELECT MIN(seq) FROM deliveries WHERE status = 'applying' UNION ALL "
         "SELECT MIN(seq) FROM deliveries WHERE status = 'forwarding'))", ()),
        ("/metrics: counts by status", "SELECT status, COUNT(*) FROM deliveries GROUP BY status", ()),
    ]
    res = []
    for name, sql, a in queries:
        plan = "; ".join(r[-1] for r in db.execute("EXPLAIN QUERY PLAN " + sql, a).fetchall())
        samples = []
        for _ in range(5):
            t0 = time.perf_counter_ns()
            db.execute(sql, a).fetchall()
            samples.append(time.perf_counter_ns() - t0)
        res.append({"what": name, "sql": sql, "plan": plan,
                    "ms": round(statistics.median(samples) / 1e6, 3)})
    out({"deliveries": db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0], "queries": res})
    db.close()


def cmd_exectime(args):
    """exectime N CMD...: median wall ms of N runs of CMD to its exit."""
    n, argv = int(args[0]), args[1:]
    samples = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter_ns() - t0)
    out(summary_ms(samples))


def cmd_heaptrack(args):
    """heaptrack FILE: heaptrack_print's summary and its top peak consumers, each named by its
    allocation function and the first frame in Ghost Runner's own code."""
    p = subprocess.run(["heaptrack_print", "-f", args[0], "--print-peaks", "1",
                        "--print-allocators", "0", "--print-temporary", "0", "--print-leaks", "0",
                        "-n", "8", "-s", "3"], capture_output=True, text=True)
    summary, peaks, cur, func = {}, [], None, None
    for ln in p.stdout.splitlines():
        m = re.match(r"^(\S+) (peak memory )?consumed over (\d+) calls from", ln)
        if m:
            cur = {"bytes": m.group(1), "calls": int(m.group(3)), "merged": bool(m.group(2)),
                   "first": None, "ours": None}
            peaks.append(cur)
            func = None
            continue
        m = re.match(r"^(total runtime|calls to allocation functions|temporary memory allocations|"
                     r"peak heap memory consumption|peak RSS \(including heaptrack overhead\)|"
                     r"total memory leaked): (.*)$", ln)
        if m:
            summary[m.group(1)] = m.group(2).rstrip(".")
            cur = None
            continue
        if cur is None:
            continue
        s_ = ln.strip()
        if s_.startswith("at ") and func and cur["ours"] is None and \
                re.search(r"/(core|headless)/[^/]+\.cpp:\d+$", s_):
            cur["ours"] = "%s (%s)" % (func, s_[3:].rsplit("/", 1)[-1])
        elif not s_.startswith(("at ", "in ")) and s_:
            func = s_
            if cur["first"] is None:
                cur["first"] = s_
    out({"summary": summary, "peaks": [x for x in peaks if not x["merged"]][:8]})


def cmd_proc(args):
    pid = args[0]
    res = {}
    with open("/proc/%s/status" % pid) as f:
        for ln in f:
            k, _, v = ln.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM", "Threads"):
                res[k] = int(v.split()[0])
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    res["cpu_ms"] = (int(fields[11]) + int(fields[12])) * 1000 // tick
    out(res)


def cmd_profile(args):
    """profile TOOL WORK: gathers bench/run's profile files (perf report excerpts, perf trace -s
    summary, the daemon's metrics before and after the load) into one object."""
    tool, work = args[0], args[1]

    def lines(name):
        p = os.path.join(work, name)
        return [ln.rstrip() for ln in open(p, errors="replace")] if os.path.exists(p) else []

    def metrics_file(name):
        m = {}
        for ln in lines(name):
            if ln and not ln.startswith("#"):
                k, _, v = ln.rpartition(" ")
                try:
                    m[k] = float(v)
                except ValueError:
                    pass
        return m

    def delta(run):
        a, b = metrics_file(run + ".m0"), metrics_file(run + ".m1")
        keys = ["ghost_runner_intake_commits_total", "ghost_runner_intake_committed_requests_total",
                'ghost_runner_intake_syncs_total{result="ok"}', 'ghost_runner_intake_syncs_total{result="failed"}',
                'ghost_runner_deliveries_total{status="applied"}',
                "ghost_runner_apply_duration_seconds_sum", "ghost_runner_apply_duration_seconds_count",
                "ghost_runner_intake_duration_seconds_sum", "ghost_runner_intake_duration_seconds_count"]
        return {k: b.get(k, 0) - a.get(k, 0) for k in keys}

    def wrk(run):
        for ln in lines(run + ".wrk"):
            if ln.startswith("COUNT "):
                return json.loads(ln[6:])
        return None

    def trace(name):
        threads, cur = [], None
        for ln in lines(name):
            m = re.match(r"^ (\S.*) \((\d+)\), (\d+) events", ln)
            if m:
                cur = {"thread": m.group(1), "tid": int(m.group(2)), "events": int(m.group(3)),
                       "syscalls": []}
                threads.append(cur)
                continue
            m = re.match(r"^\s+(\w+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", ln)
            if m and cur is not None:
                cur["syscalls"].append({"name": m.group(1), "calls": int(m.group(2)),
                                        "total_ms": float(m.group(4)), "avg_ms": float(m.group(6)),
                                        "max_ms": float(m.group(7))})
        return threads

    out({"tool": tool, "comm": lines("prof.comm"), "dso": lines("prof.dso"),
         "sym": lines("prof.sym"), "seconds": float(os.environ.get("PROFILE_S", "5")),
         "rec": {"wrk": wrk("prof-rec"), "metrics": delta("prof-rec")},
         "trace": {"wrk": wrk("prof-trace"), "metrics": delta("prof-trace"), "threads": trace("trace.txt")},
         "seq": {"latency": (json.loads(lines("prof-seq.seq")[0]) if lines("prof-seq.seq") else None),
                 "metrics": delta("prof-seq"), "threads": trace("trace-seq.txt")}})


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return
    cmd = sys.argv[1]
    fn = globals().get("cmd_" + cmd)
    if fn is None:
        raise SystemExit("benchlib: unknown subcommand %s" % cmd)
    fn(sys.argv[2:])


if __name__ == "__main__":
    main()
