#!/usr/bin/env python3
"""Renders bench/run's results (JSON lines) as docs/benchmarks.md.

  report.py RESULTS.jsonl COMMANDS.txt > docs/benchmarks.md

Every figure on the page comes from RESULTS. The sentences around a missed target are chosen
and filled in from the measured values (the profile's shares, the syscalls per delivery), so
that they say what this run measured, not what an earlier one did.
"""
import json
import re
import statistics
import sys


def load(path):
    r = {}
    with open(path) as f:
        for ln in f:
            ln = ln.strip()
            if ln:
                o = json.loads(ln)
                r[o["key"]] = o["data"]
    return r


R = load(sys.argv[1])
CMDS = [ln.rstrip("\n").split("\t", 1) for ln in open(sys.argv[2]) if "\t" in ln]


def f0(v):
    return "–" if v is None else "{:,.0f}".format(v)


def f1(v):
    return "–" if v is None else "{:,.1f}".format(v)


def f2(v):
    return "–" if v is None else "{:,.2f}".format(v)


def ratio(a, b, digits=1):
    if a is None or b is None or b == 0:
        return "–"
    return ("{:,.%df}×" % digits).format(a / b)


def mib(kb):
    return None if kb is None else kb / 1024.0


def pct_of(line):
    m = re.match(r"\s*([\d.]+)%\s+(.*)$", line)
    return (float(m.group(1)), m.group(2).strip()) if m else (None, line.strip())


def share(lines, pattern):
    """Sum of the percentages of the lines whose name matches pattern."""
    total = 0.0
    for ln in lines or []:
        p, name = pct_of(ln)
        if p is not None and re.search(pattern, name):
            total += p
    return total


targets = []  # (target, measured, ok)
misses = []   # (title, paragraph)
sections = []
w = sections.append
m = R.get("machine", {})
wall = R.get("wall", {})
prof = R.get("profile") or {}


def thread_role(t, first):
    """What a traced thread of the daemon does. perf trace names a thread by its comm: the main
    thread is the process's first, lowest tid; the archive thread names itself `gr-archive`; the
    three single-thread pools (the apply worker, the confirmation log's writer, the intake's WAL
    flush) are "Thread (pooled)" (or still the process's name), told apart here by the system calls
    they make: the worker renames and fsyncs; the log writer writes its line, fdatasyncs it and wakes
    the main thread (two writes per fdatasync); the flush only fdatasyncs and wakes it (one)."""
    if first:
        return "main thread"
    if "archive" in t["thread"]:
        return "archive thread"
    calls = {s["name"]: s["calls"] for s in t["syscalls"]}
    if set(calls) & {"rename", "renameat", "renameat2", "link", "linkat", "fsync", "fchmod"}:
        return "apply worker"
    if calls.get("fdatasync"):
        return "log writer" if calls.get("write", 0) >= 1.5 * calls["fdatasync"] else "intake flush"
    return "%s (%d)" % (t["thread"], t["tid"])


def syscalls(threads, per=1.0):
    """{thread role: {syscall: (calls/per, total_ms/per, avg_ms)}}, threads of one role merged
    (a pool may replace its thread)."""
    res = {}
    ordered = sorted(threads or [], key=lambda t: t["tid"])
    for i, t in enumerate(ordered):
        d = res.setdefault(thread_role(t, i == 0), {})
        for s in t["syscalls"]:
            c, tot, _ = d.get(s["name"], (0, 0, 0))
            d[s["name"]] = (c + s["calls"] / per, tot + s["total_ms"] / per, (tot + s["total_ms"] / per) /
                            max(1e-9, c + s["calls"] / per))
    return res


SYNC = ("fsync", "fdatasync")

# ------------------------------------------------------------------ 1. intake
NAMES = {"gr": "Ghost Runner", "webhook": "adnanh/webhook", "flask": "Flask pipeline"}
intake = {}
for tool in ("gr", "webhook", "flask"):
    for c in (8, 64):
        d = R.get("intake.%s.c%d" % (tool, c))
        if not d:
            continue
        wrk = d["wrk"]
        st = {int(k): v for k, v in wrk["statuses"].items()}
        ack = sum(v for k, v in st.items() if 200 <= k < 300)
        secs = wrk["duration_us"] / 1e6
        x = dict(ack=ack, other={k: v for k, v in st.items() if not 200 <= k < 300}, secs=secs,
                 rate=ack / secs, errors=wrk["errors"], requests=wrk["requests"], d=d,
                 p50=wrk["latency_p50_us"] / 1000.0, p99=wrk["latency_p99_us"] / 1000.0,
                 pending=0, lost_ids=None, drained=True)
        if tool == "gr":
            dr = R.get("drain.gr-c%d" % c) or {}
            jk = d.get("journal_after_kill") or {}
            log = dr.get("log") or {"unique_ids": 0, "statuses": {}, "lines": 0}
            x["drained"] = bool(dr.get("drain", {}).get("drained"))
            x["wait"] = dr.get("since_restart_s")
            x["confirmed"] = log["unique_ids"]
            x["applied"] = log["statuses"].get("applied", 0)
            not_confirmed = log.get("acked_not_confirmed", ack)
            x["not_journaled"] = jk.get("acked_not_in_journal")
            x["pending"] = 0 if x["drained"] else not_confirmed
            x["lost_ids"] = (x["not_journaled"] or 0) + (not_confirmed if x["drained"] else 0)
            x["lost"] = x["lost_ids"]
            x["a_txt"] = dr.get("a_txt")
            x["group"] = (d.get("committed_requests") or 0) / max(1, d.get("commits") or 1)
            # older results have no syncs counter: the per-flush figure is then left out
            x["per_sync"] = ((d.get("committed_requests") or 0) / d["syncs"]) if d.get("syncs") else None
            x["cpu_per_req"] = d.get("cpu_ms", 0) / max(1, d.get("committed_requests") or ack)
            x["finished_during"] = d.get("finished_during")
            x["rss"] = dr.get("rss")
        elif tool == "webhook":
            log = d["log"]
            x["confirmed"] = log["lines"]
            x["applied"] = log["lines"]
            x["lost"] = max(0, ack - log["lines"])
            x["wait"] = d.get("since_wrk_s")
            if d.get("wrk_end") and d["drain"].get("last_growth_at"):
                x["wait"] = max(0.0, d["drain"]["last_growth_at"] - d["wrk_end"])
            x["drained"] = bool(d["drain"].get("stable"))
        else:
            log = d["log"]
            x["confirmed"] = log["unique_ids"]
            x["applied"] = log["statuses"].get("applied", 0)
            x["lost_ids"] = log.get("acked_not_confirmed")
            x["lost"] = max(0, ack - x["confirmed"])
            x["wait"] = d["drain"].get("waited_s")
            x["a_txt"] = d.get("a_txt")
        intake[(tool, c)] = x

if intake:
    gr8 = intake.get(("gr", 8)) or {}
    w("## 1. Durable intake")
    w("")
    w("`wrk -t2` with 8 and with 64 connections for %s s each against each tool's intake, one fresh "
      "instance per run, sending the peers' `post.lua` request (a fresh `id` each) through "
      "`bench/count.lua`, which tallies every answer by status and keeps the ids the answers name." % (
          f0(gr8.get("secs"))))
    w("")
    w("- **Acknowledged** is a 2xx answer. Ghost Runner answers `202` only once the delivery is in its "
      "SQLite journal on disk: the requests read together are committed in one transaction (WAL, "
      "`synchronous=NORMAL`), then the WAL file is flushed (`fdatasync`) on a thread of its own, and "
      "their `202`s go out after that flush; requests that arrive while a flush is in flight wait and "
      "are committed together as the next group (a flush the disk refuses answers `503 journal_failed` "
      "and takes its group back). Every Ghost Runner instance runs with its defaults%s. adnanh/webhook answers `200 accepted` *before* its command runs. The "
      "Flask pipeline answers `202` after its runner applied the edit and appended its log line." % (
          (", among them `server.max_queue` = %s (unfinished deliveries before the intake answers "
           "`429 queue_full`)" % f0(m["max_queue_default"])) if m.get("max_queue_default") else ""))
    w("- **Every 202 is in the journal**: right after wrk ends, the daemon is killed with `kill -9`, and "
      "its `journal.sqlite` is read: every acknowledged patch id must be there.")
    w("- **Confirmed** is a line in the tool's own confirmation output: Ghost Runner's "
      "`STATE/logs/delivery-confirmation.log`, the Flask runner's `patches/.logs/delivery-confirmation.log`, "
      "the hook's `$LOG`. It is counted once the tool is done: adnanh/webhook and Flask when their log "
      "has not grown for 2–3 s; Ghost Runner when a new daemon, started on the killed one's state, has "
      "recovered the journal and applied everything queued (`/metrics` queue depth 0). Those waits "
      "(phase B) run together and are not measured; their deadline is %s s." % f0((R.get("phase_b") or {}).get("deadline_s")))
    w("- **Lost** = acknowledged and never confirmed. For Ghost Runner and Flask, whose answers name the "
      "patch id, it is counted id by id; for adnanh/webhook, whose answer does not, as acknowledged − "
      "confirmed (never below 0). A request in flight when wrk stops can be run without its answer being "
      "counted, so that difference can hide up to one loss per connection.")
    w("- **The edit.** `post.lua`'s `{\"pattern\":\"x\",\"replacement\":\"y\"}` can match only once in a "
      "workspace: Ghost Runner replaces every literal match and treats zero matches as a failure "
      "(`no_match`), while the Flask runner's `re.sub` reports `applied` even when nothing matched. So "
      "that every delivery is a real edit that rewrites the file in both, `count.lua` swaps just the edit "
      "for `{\"pattern\":\"^(.)(.*)$\",\"replacement\":\"\\\\2\\\\1\"}`, which matches every time and "
      "rotates `a.txt` (`xy` → `yx` → `xy`); after an even number of applied edits `a.txt` is `xy` again, "
      "after an odd number `yx` (`BENCH_PATCH=post` sends `post.lua`'s body unchanged).")
    w("")
    w("| tool | conns | acknowledged | other answers | **acknowledged/s** | wrk latency p50 / p99 | confirmed | applied | **lost** | Ghost Runner ÷ tool |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for c in (8, 64):
        g = intake.get(("gr", c))
        for tool in ("gr", "webhook", "flask"):
            x = intake.get((tool, c))
            if not x:
                continue
            other = ", ".join("%s×%d" % (f0(v), k) for k, v in sorted(x["other"].items())) or "–"
            errs = {k: v for k, v in x["errors"].items() if v and k != "status"}
            if errs:
                other += "; socket errors: " + ", ".join("%s %d" % (k, v) for k, v in errs.items())
            lost = f0(x["lost"])
            if tool == "gr":
                lost += " (by id)"
                if x["pending"]:
                    lost += "; %s still queued in the journal at the deadline" % f0(x["pending"])
            elif x["lost_ids"] is not None:
                lost += " (by id)"
            w("| %s | %d | %s | %s | **%s** | %s / %s ms | %s | %s | **%s** | %s |" % (
                NAMES[tool], c, f0(x["ack"]), other, f0(x["rate"]), f1(x["p50"]), f1(x["p99"]),
                f0(x["confirmed"]), f0(x["applied"]), lost,
                "–" if tool == "gr" else ratio(g["rate"] if g else None, x["rate"], 2)))
    w("")
    for c in (8, 64):
        g = intake.get(("gr", c))
        if g:
            jk = g["d"].get("journal_after_kill") or {}
            applied_b = max(0, (g["confirmed"] or 0) - (g["finished_during"] or 0))
            dr = R.get("drain.gr-c%d" % c) or {}
            took = g.get("wait") or 1e9
            if g["drained"] and dr.get("started_at") and (dr.get("log") or {}).get("last_ts"):
                took = max(1e-3, dr["log"]["last_ts"] - dr["started_at"])
                g["wait"] = took
            pace = applied_b / max(1e-9, took)
            if g["drained"]:
                after = "applied its backlog of %s in %s s (%s/s)" % (f0(applied_b), f1(g.get("wait")), f0(pace))
            else:
                after = ("applied %s in the %s s it had (%s/s); **%s were still queued in its journal** at the "
                         "deadline, another ~%s s at that pace" % (
                             f0(applied_b), f1(g.get("wait")), f0(pace), f0(g["pending"]),
                             f0(g["pending"] / max(1e-9, pace))))
            if g["per_sync"] is not None:
                groups = "%s group commits and %s flushes of the WAL (**%s requests per flush**, `fdatasync`)%s" % (
                    f0(g["d"].get("commits")), f0(g["d"]["syncs"]), f1(g["per_sync"]),
                    ("; **%s flushes failed**" % f0(g["d"]["sync_failures"])) if g["d"].get("sync_failures") else "")
            else:
                groups = "%s group commits (**%s requests per commit**)" % (f0(g["d"].get("commits")), f1(g["group"]))
            w("- Ghost Runner, %d connections: **%s of %s acknowledged ids were in the journal after `kill -9`**; "
              "%s requests journaled in %s; %s ms of daemon CPU per request; %s deliveries were applied "
              "while wrk ran (%s/s%s)%s. The new daemon (niced, in phase B, beside the fill) %s; `a.txt` "
              "ends as `%s` after %s applied edits." % (
                  c, f0((jk.get("acked") or 0) - (jk.get("acked_not_in_journal") or 0)), f0(jk.get("acked")),
                  f0(g["d"].get("committed_requests")), groups,
                  f2(g["cpu_per_req"]), f0(g["finished_during"]), f0((g["finished_during"] or 0) / g["secs"]),
                  ": the executor falls behind the intake" if (g["finished_during"] or 0) < 0.9 * g["ack"] else "",
                  ("; %s answers were `429 queue_full` once that backlog reached `server.max_queue` (%s by "
                   "default): deliberate back-pressure, neither acknowledged nor counted" % (
                       f0(g["other"][429]), f0(m.get("max_queue_default")) if m.get("max_queue_default") else "see `--print-config`"))
                  if g["other"].get(429) else "",
                  after, g.get("a_txt"), f0(g["applied"])))
    for c in (8, 64):
        x = intake.get(("webhook", c))
        if x:
            errs = x["d"].get("errors") or []
            w("- adnanh/webhook, %d connections: its last hook ran %s s after wrk stopped%s; its `-verbose` "
              "log has %s error lines%s." % (
                  c, f1(x["wait"]), " (in phase B, reniced, beside the fill)" if c == 64 else "",
                  f0(x["d"].get("error_lines")),
                  (" (most frequent: `" + "`, `".join(errs[:2]) + "`)") if errs else ""))
    for c in (8, 64):
        x = intake.get(("flask", c))
        if x:
            w("- Flask pipeline, %d connections: `a.txt` ends as `%s` after %s applied edits." % (
                c, x.get("a_txt"), f0(x["applied"])))
    w("")
    for c in (8, 64):
        g, hk, fl = intake.get(("gr", c)), intake.get(("webhook", c)), intake.get(("flask", c))
        if g and hk:
            targets.append(("durable intake ≥ 2× adnanh/webhook's acknowledged/s, %d connections" % c,
                            "%s/s vs %s/s: **%s**" % (f0(g["rate"]), f0(hk["rate"]), ratio(g["rate"], hk["rate"], 2)),
                            g["rate"] >= 2 * hk["rate"]))
        if g and fl:
            targets.append(("durable intake ≥ 30× the Flask pipeline's, %d connections" % c,
                            "%s/s vs %s/s: **%s**" % (f0(g["rate"]), f0(fl["rate"]), ratio(g["rate"], fl["rate"])),
                            g["rate"] >= 30 * fl["rate"]))
        if g:
            txt = "%s acknowledged, %s not in the journal after kill -9, %s lost" % (
                f0(g["ack"]), f0(g["not_journaled"]), f0(g["lost"]))
            if g["pending"]:
                txt += ", %s still queued at the deadline (journaled, not yet applied)" % f0(g["pending"])
            targets.append(("Ghost Runner: zero acknowledged lost, %d connections" % c, txt, g["lost"] == 0))

# ------------------------------------------------------------------ 2. latency
lat = {k: R.get(k) for k in ("latency.aio.wait", "latency.aio.tail", "latency.aio.shm", "latency.relay.tail",
                              "latency.relay.wait", "latency.flask.sync", "latency.relay.c8",
                              "latency.flask.c8")}
seq = prof.get("seq") or {}
seq_n = (seq.get("metrics") or {}).get('ghost_runner_deliveries_total{status="applied"}') or 0
per_delivery = syscalls(seq.get("threads"), seq_n) if seq_n else {}
if any(lat.values()):
    any_lat = next(v for v in lat.values() if v)
    w("## 2. End-to-end latency, send → confirmation line")
    w("")
    w("One client, one keep-alive connection, %s patches one after the other (after %s unmeasured "
      "warm-up patches), each the rotating edit of section 1, so every one is applied:" % (
          any_lat.get("n"), any_lat.get("warmup")))
    w("")
    w("- **wait**: `POST /webhook?wait=10`, timed to the answer. Ghost Runner answers `200` only after "
      "the line is written (log line, then journal, then answer), so this bounds the time to the line "
      "from above; each answer is checked to find its line already in the log.")
    w("- **tail**: `POST /webhook` (answered `202` once journaled), then the log file is read from its "
      "last offset every 50 µs (no inotify) until the id's line appears: send → line, to ~0.1 ms.")
    if lat["latency.aio.shm"]:
        w("- **on tmpfs**: *tail* once more, against a daemon whose state directory and workspace are on "
          "`/dev/shm`, where fsync and fdatasync return at once: the same path without the disk's syncs "
          "(a floor, not a configuration anyone should run: nothing there survives a reboot).")
    w("- **sync**: the Flask pipeline's `/webhook` answers after its runner has written the line; timed "
      "to the answer, and the line is checked to be there.")
    w("- **8 senders**: eight clients at once, each on its own connection, each sending its next patch "
      "as soon as its previous one's line is in the log; send → line for every patch (the log read "
      "every 50 µs by one poller).")
    w("")
    w("| path | how | p50 | p90 | p99 | max | answers before their log line | Flask p50 ÷ this p50 |")
    w("|---|---|---|---|---|---|---|---|")
    fl = lat["latency.flask.sync"]
    for name, how, d in (("Ghost Runner all-in-one", "wait", lat["latency.aio.wait"]),
                         ("Ghost Runner all-in-one", "tail", lat["latency.aio.tail"]),
                         ("Ghost Runner all-in-one, state and workspace on tmpfs (no disk syncs)", "tail", lat["latency.aio.shm"]),
                         ("Ghost Runner relay → runner (two processes)", "tail (the runner's log)", lat["latency.relay.tail"]),
                         ("Ghost Runner relay → runner (two processes)", "wait (the relay's answer)", lat["latency.relay.wait"]),
                         ("Ghost Runner relay → runner (two processes)", "8 senders, tail (the runner's log)", lat["latency.relay.c8"]),
                         ("Flask pipeline (webhook → runner)", "sync", fl),
                         ("Flask pipeline (webhook → runner)", "8 senders, tail", lat["latency.flask.c8"])):
        if d:
            w("| %s | %s | %s ms | %s ms | %s ms | %s ms | %s | %s |" % (
                name, how, f2(d["p50_ms"]), f2(d["p90_ms"]), f2(d["p99_ms"]), f2(d["max_ms"]),
                "–" if "tail" in how else d.get("answered_before_log_line"),
                ratio(((lat["latency.flask.c8"] if "senders" in how else fl) or {}).get("p50_ms"),
                      d["p50_ms"], 2)))
    w("")
    aio = [x for x in (lat["latency.aio.wait"], lat["latency.aio.tail"]) if x]
    if aio:
        p50 = max(x["p50_ms"] for x in aio)
        p99 = max(x["p99_ms"] for x in aio)
        targets.append(("all-in-one sequential end-to-end p50 < 2 ms", "%s ms (the worse of wait and tail)" % f2(p50), p50 < 2))
        targets.append(("all-in-one sequential end-to-end p99 < 10 ms", "%s ms (the worse of wait and tail)" % f2(p99), p99 < 10))
        if p50 >= 2 or p99 >= 10:
            parts, sync_ms, sync_n, flush_ms = [], 0.0, 0.0, None
            for th, calls in per_delivery.items():
                for sc in SYNC:
                    if sc in calls:
                        c_, tot, avg = calls[sc]
                        sync_ms += tot
                        sync_n += c_
                        if c_ >= 0.05:  # not the odd checkpoint
                            parts.append("%s `%s` on the %s (%s ms each)" % (f1(c_), sc, th, f2(avg)))
                        if th == "intake flush" and sc == "fdatasync":
                            flush_ms = avg
            per_sync = sync_ms / sync_n if sync_n else None
            seq_lat = seq.get("latency") or {}
            shm, tail_ = lat["latency.aio.shm"], lat["latency.aio.tail"]
            floor = shm["p50_ms"] if shm else None
            text = "All-in-one p50 is %s ms against 2 ms (%s the target)%s." % (
                f2(p50), ratio(p50, 2),
                (", and p99 %s ms against 10 ms (%s)" % (f2(p99), ratio(p99, 10))) if p99 >= 10 else
                (", while p99, %s ms, is within its 10 ms" % f2(p99)))
            if floor is not None and tail_:
                text += (" Without the disk, the same path takes **%s ms** p50 (state and workspace on tmpfs, "
                         "the table above): the rest, **%s ms** of the tail p50's %s ms, is the %s." % (
                             f2(floor), f2(max(0.0, tail_["p50_ms"] - floor)), f2(tail_["p50_ms"]),
                             ("%s syncs counted below" % f1(sync_n)) if sync_n else "disk's syncs"))
            if sync_n:
                text += (" The sequential trace of section 6 (`perf trace -s`, %s deliveries one at a time) "
                         "counts them: each delivery waits for **%s disk syncs**: %s, **%s ms per delivery in "
                         "fsync and fdatasync alone** on this disk, out of a p50 of %s ms in that (traced) run." % (
                             f0(seq_n), f1(sync_n), "; ".join(parts), f1(sync_ms), f2(seq_lat.get("p50_ms"))))
            if fl and fl["p50_ms"] < p50:
                text += (" The Flask pipeline syncs nothing, which is how it is faster here (p50 %s ms), and what "
                         "it gives up: what it answered can be lost with the page cache." % f2(fl["p50_ms"]))
            text += (" Syncs that need not wait for each other already overlap: the executor starts on a "
                     "delivery once it is committed, while the intake's WAL flush runs (%s; only the "
                     "confirmation line waits for that flush), and the workspace's temporary files are "
                     "fsynced while the transaction record is written (one slot file rewritten in place, "
                     "one fdatasync). What is left in series are the syncs each of which must be on "
                     "disk before the next step may claim it: the new files and their record before the "
                     "renames, the directory after the renames, and the confirmation line, which says "
                     "the change is there. What would close the gap without relaxing durability: a disk "
                     "whose syncs cost less (the tmpfs row is the same code without them), or taking the "
                     "directory's sync off the path by writing the line while it is in flight and having "
                     "recovery check a logged delivery's files against hashes in its record, which "
                     "changes the crash contract (docs/architecture.md) and is not done." % (
                         ("%s ms each in this trace" % f2(flush_ms)) if flush_ms else "not traced this run"))
            if per_sync:
                room = (2.0 - floor) / per_sync if floor is not None else 2.0 / per_sync
                text += (" At this run's %s ms per sync, each one taken off the path is worth about that "
                         "much per delivery; " % f2(per_sync))
                if floor is not None and floor >= 2:
                    text += ("but the path without any sync already takes %s ms, so fewer syncs alone cannot "
                             "bring it under 2 ms." % f2(floor))
                elif room >= 1:
                    text += ("the 2 ms target leaves room for at most %s of them in series%s." % (
                        f0(int(room)), (" on top of the %s ms floor" % f2(floor)) if floor is not None else ""))
                else:
                    text += ("the %s ms floor leaves %s ms of the 2 ms target, less than one of this disk's "
                             "syncs, so on this disk the target needs the syncs overlapped with each other "
                             "and with the work, not only fewer of them." % (f2(floor), f2(2.0 - floor)))
            elif not sync_n:
                text += (" (This run did not trace the syncs: `BENCH_ONLY` left out the profile of section 6.)")
            misses.append(("End-to-end latency", text))

# ------------------------------------------------------------------ 3. apply
gen = R.get("apply.gen")
apply_rounds = 0
while R.get("apply.gr.%d" % (apply_rounds + 1)):
    apply_rounds += 1
if gen:
    w("## 3. Applying a large change")
    w("")
    w("`bench/gen_large_change.py` (seeded: the same bytes every run) writes a base tree of %s files "
      "× 200 lines and one git-style diff of %s MB: %s files modified (4 hunks each), %s deleted, %s "
      "renamed, %s renamed and edited, %s new — **%s changed lines**. On tmpfs (`/dev/shm`) the base "
      "is copied for each tool and run, and only the apply is timed; %d rounds, the tools "
      "interleaved, median reported. After every round the three result trees are compared, every "
      "file's bytes (`diff -r`) and every entry's type and mode: **%s** (%s paths differ from the base)." % (
          f0(gen["files"]), f1(gen["diff_bytes"] / 1e6), f0(gen["modified"]), gen["deleted"], gen["renamed"],
          gen["renamed_modified"], gen["new"], f0(gen["changed_lines"]), apply_rounds,
          "identical" if gen.get("trees_identical") else "DIFFERENT", f0(gen.get("paths_differing_from_base"))))
    w("")
    med = {}
    for tool in ("gr", "git", "patch"):
        runs = [R.get("apply.%s.%d" % (tool, i)) for i in range(1, apply_rounds + 1)]
        runs = [x for x in runs if x]
        if runs:
            med[tool] = dict(ms=statistics.median(x["ms"] for x in runs), runs=[x["ms"] for x in runs],
                             rss=max(x["maxrss_kb"] for x in runs),
                             user=statistics.median(x["user_ms"] for x in runs),
                             sys=statistics.median(x["sys_ms"] for x in runs))
    w("| tool | median | runs | CPU user + sys (median) | peak RSS | ÷ git apply | ÷ patch -p1 |")
    w("|---|---|---|---|---|---|---|")
    label = {"gr": "`ghost-runner apply --format unified`", "git": "`git apply`", "patch": "`patch -p1 -s`"}
    for tool in ("gr", "git", "patch"):
        x = med.get(tool)
        if x:
            w("| %s | **%s ms** | %s ms | %s + %s ms | %s MiB | %s | %s |" % (
                label[tool], f0(x["ms"]), " / ".join(f0(v) for v in x["runs"]), f0(x["user"]), f0(x["sys"]),
                f1(mib(x["rss"])), ratio(x["ms"], med["git"]["ms"], 2), ratio(x["ms"], med["patch"]["ms"], 2)))
    w("")
    ap = R.get("apply.profile") or {}
    if "gr" in med and "git" in med:
        ok = med["gr"]["ms"] <= med["git"]["ms"]
        targets.append(("large apply no slower than git apply",
                        "%s ms vs %s ms: **%s**" % (f0(med["gr"]["ms"]), f0(med["git"]["ms"]), ratio(med["gr"]["ms"], med["git"]["ms"], 2)), ok))
        if ap.get("sym"):
            w("Where `ghost-runner apply`'s time goes (`perf record -g` of one more run; self time by library, "
              "by symbol, and the inclusive time of its own steps):")
            w("")
            w("```")
            for ln in (ap.get("dso") or [])[:6] + [""] + (ap.get("sym") or [])[:12] + [""] + (ap.get("children") or [])[:12]:
                w(ln)
            w("```")
            w("")
        if not ok:
            def incl(name):
                best = None
                for ln in ap.get("children") or []:
                    m_ = re.match(r"\s*([\d.]+)%\s+[\d.]+%\s+\[.\]\s+(\S+)", ln)
                    if m_ and m_.group(2).startswith(name):
                        best = max(best or 0.0, float(m_.group(1)))
                return best
            env = (incl("PatchInput::toEnvelope") or 0) + (incl("Envelope::parse") or 0)
            parts = []
            for label_, name in (("parsing and matching the diff (`UnifiedDiffParser::apply`)", "UnifiedDiffParser::apply"),
                                 ("reading the files through the sandbox (`Workspace::readMany`: the paths checked "
                                  "one after another, the files read a few at a time)", "Workspace::read"),
                                 ("staging the new contents (`StagedTree::write`, `StagedTree::changeSet`)", "StagedTree::"),
                                 ("writing them (`Workspace::commit`: temporary file, fsync, rename, hard-link backup)", "Workspace::commit")):
                v = incl(name)
                if v:
                    parts.append("%s%% %s" % (f0(v), label_))
            misses.append((
                "Large apply",
                "`ghost-runner apply` took %s ms against `git apply`'s %s ms (%s; `patch -p1`: %s ms), with %s + %s ms "
                "of user + system CPU against git's %s + %s, and %s MiB of memory against %s. Its profile "
                "(section 3; inclusive times, which nest) says where: %s. The sandbox is already checked once "
                "per directory (`Workspace::PathScope`), and files are already read, planned and written a few "
                "at a time (`core/parallelfor.*`); unlike `git apply`, every new file is fsynced before its "
                "rename and the old one kept as a backup until the outcome is logged. What would close it: "
                "parsing the diff on several threads (one pass on one thread now), and fewer directory "
                "changes per modified file in the commit (four: temporary file, backup link, rename, backup "
                "unlink, against git's two: unlink, create), which the backup needs; on this machine the two tools' times also move by several percent between runs, so "
                "compare more than one." % (
                    f0(med["gr"]["ms"]), f0(med["git"]["ms"]), ratio(med["gr"]["ms"], med["git"]["ms"], 2),
                    f0(med.get("patch", {}).get("ms")), f0(med["gr"]["user"]), f0(med["gr"]["sys"]),
                    f0(med["git"]["user"]), f0(med["git"]["sys"]), f1(mib(med["gr"]["rss"])),
                    f1(mib(med["git"]["rss"])),
                    ("**%s%% goes into wrapping the raw diff in a JSON envelope and parsing it back** "
                     "(`PatchInput::toEnvelope`, `Envelope::parse`) before anything is applied; then: %s" % (
                         f0(env), "; ".join(parts) or "the rest")) if (env or 0) >= 5 else
                    ("%s (the raw diff reaches the executor as bytes, with no JSON envelope round trip: "
                     "%s MB never escaped and parsed back)" % ("; ".join(parts) or "no step stands out",
                                                               f1(gen["diff_bytes"] / 1e6))))))

# ------------------------------------------------------------------ 4. footprint
su, suv, suf = R.get("startup"), R.get("startup.version"), R.get("startup.full")
idle, after, final, fill = R.get("rss.idle"), R.get("rss.after"), R.get("rss.final"), R.get("fill")
heap = R.get("heap")
if su or idle:
    w("## 4. Footprint")
    w("")
    if su:
        w("**Start-up to `listening`**: `ghost-runner serve --port 0` started %d times, each on a fresh state "
          "directory (so each creates its journal), timed from spawn to the `listening on …` line on its "
          "standard output, which it prints only once the socket is bound and the journal open: median "
          "**%s ms** (min %s, max %s). For scale, `ghost-runner --version` (the process and its "
          "libraries, nothing else) takes %s ms; and started on the journal of the fill below (%s "
          "deliveries, all queued, which recovery reads back), %s ms (median of 3)." % (
              su["n"], f1(su["p50_ms"]), f1(su["min_ms"]), f1(su["max_ms"]),
              f1((suv or {}).get("p50_ms")), f0((fill or {}).get("journaled")), f1((suf or {}).get("p50_ms"))))
        w("")
        targets.append(("start-up to listening < 100 ms", "%s ms median (fresh state)" % f1(su["p50_ms"]), su["p50_ms"] < 100))
        if su["p50_ms"] >= 100:
            misses.append(("Start-up", "Start-up to listening took %s ms (median) against 100 ms; the process "
                           "and its libraries alone (`--version`) take %s ms of it, the engine's start (journal "
                           "creation, WAL, bind) the rest." % (f1(su["p50_ms"]), f1((suv or {}).get("p50_ms")))))
    bands = []
    if fill:
        # Intake rate by journal size, from the fill's samples [t, journaled, rss]
        sm = [x for x in (fill.get("samples") or []) if x[1] > 0]
        step = max(1, fill["target"] // 10)
        edge, prev = step, (sm[0] if sm else None)
        for x in sm:
            if x[1] >= edge or x is sm[-1]:
                if prev and x[0] > prev[0] and x[1] > prev[1]:
                    bands.append((prev[1], x[1], (x[1] - prev[1]) / (x[0] - prev[0]), prev[2], x[2]))
                prev = x
                while edge <= x[1]:
                    edge += step
        fill["bands"] = bands
        short = fill["journaled"] < fill["target"]
        w("**The journal filled to %s deliveries.** `wrk -t2 -c64` with the rotating edit against a daemon "
          "configured with applying paused (`executor.start_paused = true`) and `server.max_queue = %s` "
          "(twice the fill%s), until `/metrics` counted %s journaled deliveries, or phase B's "
          "deadline: %s in %s s%s. Paused, because at the executor's pace on this disk (section 1) applying "
          "%s deliveries would take far longer than the whole run: these deliveries are journaled and "
          "queued, not applied. The fill ran in phase B, beside the backlogs being applied (those niced). "
          "Journal on disk afterwards: %s MiB." % (
              f0(fill["target"]), f0(fill["target"] * 2),
              ("; the default is %s" % f0(m["max_queue_default"])) if m.get("max_queue_default") else "",
              f0(fill["target"]), f0(fill["journaled"]),
              f1(fill["fill_s"]),
              (" — **short of %s: stopped by the deadline**" % f0(fill["target"])) if short else "",
              f0(fill["target"]), f1(fill["journal_bytes"] / 1048576.0)))
        w("")
        if bands:
            w("Intake rate and RSS as the journal grows (the same load throughout):")
            w("")
            w("| journal size | acknowledged/s | RSS at the end of the band |")
            w("|---|---|---|")
            for lo, hi, rate, r0, r1 in bands:
                w("| %s → %s | %s | %s MiB |" % (f0(lo), f0(hi), f0(rate), f1(mib(r1))))
            w("")
            if len(bands) >= 2 and bands[-1][2] < 0.7 * bands[0][2]:
                w("The intake slows down as the journal grows, from %s/s over the first %s deliveries to %s/s "
                  "past %s.%s%s" % (
                      f0(bands[0][2]), f0(bands[0][1]), f0(bands[-1][2]), f0(bands[-1][0]),
                      " No request counts the queue any more (`server.max_queue` is checked against "
                      "`DeliveryJournal::pendingCount`, a counter kept in memory); the likeliest cause is the "
                      "journal's own growth: each request's fresh, random patch id lands on its own page of the "
                      "patch-id index (`deliveries_patch_seq`), read by the duplicate check and written by the "
                      "insert, and fewer of those pages stay in SQLite's page cache as the index grows.",
                      (" At the last band's pace the remaining %s deliveries would have taken another %s s." % (
                          f0(fill["target"] - fill["journaled"]),
                          f0((fill["target"] - fill["journaled"]) / max(1e-9, bands[-1][2])))) if short else ""))
                w("")
    if idle:
        w("| daemon memory | VmRSS | RssAnon (heap) | RssFile (mapped files) | VmHWM (peak) | threads |")
        w("|---|---|---|---|---|---|")
        rows = [("idle, 2 s after start", idle),
                ("with %s deliveries journaled and queued, 2 s after the fill" % f0((fill or {}).get("journaled")), after),
                ("then after the /deliveries queries below", final)]
        g64 = intake.get(("gr", 64))
        if g64 and g64.get("rss"):
            rows.append(("the daemon that applied the -c64 backlog (%s deliveries), when done" % f0(g64["applied"]), g64["rss"]))
        for name, d in rows:
            if d:
                w("| %s | %s MiB | %s MiB | %s MiB | %s MiB | %s |" % (
                    name, f1(mib(d["VmRSS"])), f1(mib(d["RssAnon"])), f1(mib(d["RssFile"])), f1(mib(d["VmHWM"])), d["Threads"]))
        w("")
        targets.append(("daemon idle RSS < 20 MB", "%s MiB (%s kB)" % (f1(mib(idle["VmRSS"])), f0(idle["VmRSS"])), idle["VmRSS"] < 20000))
    if fill and after and idle:
        growth = (after["VmRSS"] - idle["VmRSS"]) / idle["VmRSS"]
        s_ = fill.get("rss_samples_kb") or []
        if s_:
            w("RSS sampled twice a second during the fill: %s → %s MiB." % (f1(mib(s_[0])), f1(mib(s_[-1]))))
            w("")
        targets.append(("RSS flat (±10%%) with %s deliveries in the journal" % f0(fill["journaled"]),
                        "%s → %s MiB (%+.0f%%)" % (f1(mib(idle["VmRSS"])), f1(mib(after["VmRSS"])), growth * 100),
                        abs(growth) <= 0.10))
        if abs(growth) > 0.10:
            anon = after["RssAnon"] - idle["RssAnon"]
            per = anon * 1024.0 / max(1, fill["journaled"])
            sm = [x for x in (fill.get("samples") or []) if x[1] > 0]
            if len(sm) >= 4:
                # slope of RSS over the second half of the fill: bytes per further journaled delivery
                half = sm[len(sm) // 2:]
                if half[-1][1] > half[0][1]:
                    per = (half[-1][2] - half[0][2]) * 1024.0 / (half[-1][1] - half[0][1])
            hp = ""
            if heap and heap.get("print"):
                hs = heap["print"].get("summary", {})
                hp = (" heaptrack (section 6, applying paused as here) sees a peak heap of %s after %s "
                      "deliveries; its largest consumers: %s." % (
                          hs.get("peak heap memory consumption", "?"),
                          f0(sum(v for k, v in heap["wrk"]["statuses"].items() if k.startswith("2"))),
                          "; ".join("%s from %s" % (p["bytes"], p["ours"] or p["first"]) for p in heap["print"]["peaks"][:3])))
            top = (heap or {}).get("print", {}).get("peaks") or [] if heap else []
            readbuf = bool(top) and "onReadyRead" in (top[0].get("ours") or "")
            misses.append((
                "RSS with %s deliveries" % f0(fill["journaled"]),
                "RSS went from %s to %s MiB (%+.0f%%): the heap (RssAnon) grew by %s MiB, mapped files "
                "(RssFile) by %s MiB; over the second half of the fill RSS rose by **%s bytes per further "
                "journaled delivery**. It is not the queue: the dispatcher keeps at most %s queued deliveries "
                "in memory and pages the rest from the journal (`Dispatcher::takeNext`, "
                "`DeliveryJournal::queuedAfter`).%s%s" % (
                    f1(mib(idle["VmRSS"])), f1(mib(after["VmRSS"])), growth * 100,
                    f1(mib(anon)), f1(mib(after["RssFile"] - idle["RssFile"])), f0(per), "256", hp,
                    (" The largest consumer is the connections' read buffers (`HttpConnection::onReadyRead`), "
                     "most likely held past their requests by the readable copies waiting in memory for the "
                     "idle-priority archive thread, which gets little CPU while the intake is flooded: a body "
                     "taken whole from the read buffer (`m_in.left(…)`, which then shares it) keeps the "
                     "buffer's whole capacity alive, while the archive's bound (`PatchArchive::kMaxPendingBytes`) "
                     "counts only the body's bytes. What would close it: copy the body out of the read buffer "
                     "(or count what a waiting copy really holds), or write the readable copy lazily." if readbuf else
                     (" What would close it depends on what holds the memory: the heap profile's largest "
                      "consumers are named above." if hp else
                      " What holds the memory is for the heap profile of section 6 to say (`BENCH_ONLY` left it "
                      "out of this run).")))))
    if idle and idle["VmRSS"] >= 20000:
        misses.append(("Idle RSS",
                       "Idle RSS is %s MiB against 20 MB: %s MiB of it is mapped library code and data (RssFile: "
                       "Qt Core, Network and Sql, SQLite, ICU, libstdc++), %s MiB heap (RssAnon). The file-backed "
                       "part is shared with every other Qt process and reclaimable under pressure; what would "
                       "close the rest is fewer libraries mapped (SQLite directly instead of Qt Sql and its "
                       "plugin, Qt built without ICU)." % (f1(mib(idle["VmRSS"])), f1(mib(idle["RssFile"])), f1(mib(idle["RssAnon"])))))
    qs = [(k[6:], v) for k, v in R.items() if k.startswith("query.")]
    if qs:
        w("**Queries with %s deliveries in the journal** (20 GETs over one keep-alive connection after 2 "
          "unmeasured ones; `/deliveries` pages default to 50):" % f0((fill or {}).get("journaled")))
        w("")
        w("| request | median | p90 | max | answer |")
        w("|---|---|---|---|---|")
        for q, d in qs:
            w("| `GET %s` | %s ms | %s ms | %s ms | %s, %s bytes |" % (
                q, f2(d["p50_ms"]), f2(d["p90_ms"]), f2(d["max_ms"]), d["status"], f0(d["bytes"])))
        w("")
        spl = R.get("sqlplan")
        if spl:
            w("")
            w("The journal's queries whose cost could grow with it, run on the filled journal (%s deliveries) after the "
              "daemon stopped: SQLite's plan, and the median of 5 runs:" % f0(spl["deliveries"]))
            w("")
            w("| query | SQL (as in `core/deliveryjournal.cpp`) | plan | time |")
            w("|---|---|---|---|")
            for q in spl["queries"]:
                w("| %s | `%s` | %s | %s ms |" % (q["what"], q["sql"], q["plan"], f2(q["ms"])))
            w("")
            flat = [q for q in spl["queries"] if not q["what"].startswith("/metrics: counts")]
            counts = [q for q in spl["queries"] if q["what"].startswith("/metrics: counts")]
            w("The intake's duplicate check and the `/deliveries?id=` filter (index `deliveries_patch_seq`), "
              "the dispatcher's next page of the queue (index `deliveries_status`) and the oldest pending "
              "delivery (one index lookup per pending status) are index lookups: %s ms at most here, with "
              "%s deliveries.%s The intake counts nothing: `server.max_queue` is checked against "
              "`DeliveryJournal::pendingCount`, a counter the journal keeps in memory." % (
                  f2(max(q["ms"] for q in flat)) if flat else "–", f0(spl["deliveries"]),
                  (" One query still grows with the journal: `/metrics` counts every delivery by status on "
                   "each scrape (`countsByStatus`, %s ms here)." % f2(counts[0]["ms"])) if counts else ""))
        w("")

# ------------------------------------------------------------------ 5. tray
tr = R.get("tray")
if tr:
    w("## 5. Tray idle footprint")
    w("")
    if tr.get("skipped"):
        w("Not measured: %s" % tr["skipped"])
    else:
        w("`bench/tray-footprint.sh build %s`: `ghost-runner-tray` with its in-process engine on Xvfb, "
          "with trayer (the tray host) and dunst (notifications), in its own D-Bus session; idle for "
          "%s s (during phase B)." % (f0(tr["idle_s"]), f0(tr["idle_s"])))
        w("")
        w("| RSS after start | RSS after %s s idle | CPU over the idle | voluntary context switches since start |" % f0(tr["idle_s"]))
        w("|---|---|---|---|")
        w("| %s MiB | %s MiB | %s ms (%s%% of one core) | %s |" % (
            f1(mib(tr["rss_start_kb"])), f1(mib(tr["rss_idle_kb"])), f0(tr["cpu_ms"]), tr["cpu_pct"], f0(tr["ctxt"])))
    w("")

# ------------------------------------------------------------------ 6. profiles
if prof:
    w("## 6. Profiles")
    w("")
    rec_ = prof.get("rec") or {}
    rw = rec_.get("wrk") or {}
    rmet = rec_.get("metrics") or {}
    rack = sum(v for k, v in (rw.get("statuses") or {}).items() if 200 <= int(k) < 300)
    w("**On-CPU**, `perf record -F 999` of the daemon while `wrk -t2 -c64` ran for %s s (%s "
      "acknowledged, %s/s under the profiler; %s applied meanwhile). Self time by thread, by library and "
      "by symbol:" % (f0(prof.get("seconds")), f0(rack), f0(rack / max(1e-9, (rw.get("duration_us") or 1) / 1e6)),
                      f0(rmet.get('ghost_runner_deliveries_total{status="applied"}'))))
    w("")
    w("```")
    for ln in (prof.get("comm") or []) + [""] + (prof.get("dso") or []) + [""] + (prof.get("sym") or []):
        w(ln)
    w("```")
    w("")
    tr_ = prof.get("trace") or {}
    tw = tr_.get("wrk") or {}
    tmet = tr_.get("metrics") or {}
    tack = sum(v for k, v in (tw.get("statuses") or {}).items() if 200 <= int(k) < 300)
    load = syscalls(tr_.get("threads"))
    if load:
        w("**Off-CPU**, `perf trace -s` (the wall time each thread spends in system calls) under the same "
          "load: %s acknowledged in %s group commits%s, %s applied. The daemon's pool threads are told "
          "apart by what they call (the apply worker renames and fsyncs; the log writer writes its line and "
          "fdatasyncs it; the intake flush only fdatasyncs the WAL). Top system calls per thread:" % (
              f0(tack), f0(tmet.get("ghost_runner_intake_commits_total")),
              (" and %s WAL flushes" % f0(tmet['ghost_runner_intake_syncs_total{result="ok"}']))
              if tmet.get('ghost_runner_intake_syncs_total{result="ok"}') else "",
              f0(tmet.get('ghost_runner_deliveries_total{status="applied"}'))))
        w("")
        w("| thread | system call | calls | total | average |")
        w("|---|---|---|---|---|")
        for th, calls in load.items():
            for name, (c_, tot, avg) in sorted(calls.items(), key=lambda kv: -kv[1][1])[:6]:
                w("| %s | `%s` | %s | %s ms | %s ms |" % (th, name, f0(c_), f0(tot), f2(avg)))
        w("")
    if per_delivery:
        w("**One delivery at a time**: `perf trace -s` while %s deliveries were sent one after the other with "
          "`?wait` (p50 %s ms under the tracer). System calls per delivery that touch the disk:" % (
              f0(seq_n), f2((seq.get("latency") or {}).get("p50_ms"))))
        w("")
        w("| thread | system call | per delivery | average each |")
        w("|---|---|---|---|")
        for th, calls in per_delivery.items():
            for name in ("fsync", "fdatasync", "openat", "rename", "renameat2", "link", "linkat", "unlink", "pwrite64", "write"):
                if name in calls:
                    c_, tot, avg = calls[name]
                    w("| %s | `%s` | %s | %s ms |" % (th, name, f1(c_), f2(avg)))
        w("")
    if heap and heap.get("print"):
        hs = heap["print"].get("summary", {})
        hack = sum(v for k, v in heap["wrk"]["statuses"].items() if k.startswith("2"))
        w("**Heap**, `heaptrack` on a daemon with applying paused while `wrk -t2 -c64` ran for %s s (%s "
          "deliveries journaled): %s calls to allocation functions (**%s per delivery**), peak heap %s, "
          "peak RSS %s (with heaptrack's own), leaked at exit %s. Largest peak consumers:" % (
              f0(prof.get("seconds")), f0(hack), hs.get("calls to allocation functions", "?").split(" ")[0],
              f0(float(hs.get("calls to allocation functions", "0").split(" ")[0]) / max(1, hack)),
              hs.get("peak heap memory consumption", "?"), hs.get("peak RSS (including heaptrack overhead)", "?"),
              hs.get("total memory leaked", "?")))
        w("")
        w("| peak | allocations | allocated in | from Ghost Runner's code |")
        w("|---|---|---|---|")
        for p in heap["print"]["peaks"][:6]:
            w("| %s | %s | `%s` | `%s` |" % (p["bytes"], f0(p["calls"]), (p["first"] or "?")[:70], p["ours"] or "–"))
        w("")

# intake miss, now that the profile is read
def comm_share(name):
    """The share of the on-CPU samples on threads named name (perf report --sort comm)."""
    for ln in prof.get("comm") or []:
        p_, n_ = pct_of(ln)
        if p_ is not None and n_ == name:
            return p_
    return None


for c in (8, 64):
    g, hk = intake.get(("gr", c)), intake.get(("webhook", c))
    if not (g and hk) or g["rate"] >= 2 * hk["rate"]:
        continue
    oc = 64 if c == 8 else 8
    other = ""
    if ("gr", oc) in intake and ("webhook", oc) in intake:
        other = "; at %d, %s/s against %s/s (%s)" % (
            oc, f0(intake[("gr", oc)]["rate"]), f0(intake[("webhook", oc)]["rate"]),
            ratio(intake[("gr", oc)]["rate"], intake[("webhook", oc)]["rate"], 2))
    g64 = intake.get(("gr", 64)) or g
    gc = 64 if g64 is not g else c
    text = ("At %d connections Ghost Runner acknowledged %s/s against adnanh/webhook's %s/s: %s, not the 2× "
            "asked (reaching it needs %s the measured rate)%s." % (
                c, f0(g["rate"]), f0(hk["rate"]), ratio(g["rate"], hk["rate"], 2),
                ratio(2 * hk["rate"], g["rate"], 1), other))
    g8 = intake.get(("gr", 8))
    if g8 and g8["d"].get("syncs"):
        text += (" At -c8 at most 8 requests are in flight, so each waits for its own group's flush: %s "
                 "requests per flush, one flush every %s ms." % (
                     f1(g8["per_sync"]), f2(g8["secs"] * 1000.0 / g8["d"]["syncs"])))
    text += (" At -c%d grouping works (%s requests per commit%s), and what limits the intake is CPU: the "
             "daemon spent %s ms of CPU per request, %s of the machine's %s cores, which it shares with "
             "wrk's two threads; its own threads are the main thread (HTTP, JSON, the journal's commits), "
             "the intake flush, the apply worker (which applied %s deliveries meanwhile), the log writer "
             "and the archive thread." % (
                 gc, f1(g64["group"]),
                 (", %s per WAL flush" % f1(g64["per_sync"])) if g64.get("per_sync") is not None else "",
                 f2(g64["cpu_per_req"]), f2(g64["cpu_per_req"] * g64["rate"] / 1000.0),
                 m.get("nproc", "?"), f0(g64.get("finished_during"))))
    dso = prof.get("dso") or []
    shares = []
    for label_, name in (("its main thread", "ghost-runner"),
                         ("the archive thread (`gr-archive`: the readable copies in `STATE/patches/`)", "gr-archive"),
                         ("the pool threads (apply worker, log writer, intake flush)", "Thread (pooled)")):
        v = comm_share(name)
        if v is not None:
            shares.append("%s%% on %s" % (f0(v), label_))
    heap_per = None
    if heap and heap.get("print"):
        hack = sum(v for k, v in heap["wrk"]["statuses"].items() if k.startswith("2"))
        try:
            heap_per = float(heap["print"]["summary"]["calls to allocation functions"].split(" ")[0]) / max(1, hack)
        except (KeyError, ValueError):
            pass
    if shares or dso:
        text += " Under `perf record` (section 6)"
        if shares:
            shares[0] = shares[0].replace(" on ", " are on ", 1)
            text += ", of the daemon's samples %s" % (
                (", ".join(shares[:-1]) + " and " + shares[-1]) if len(shares) > 1 else shares[0])
        if dso:
            text += ("; by library, %s%% in the kernel (system calls, the file system), %s%% in SQLite, %s%% in "
                     "libc (malloc and free%s)" % (
                         f0(share(dso, r"kernel")), f0(share(dso, r"sqlite")), f0(share(dso, r"libc\.so")),
                         (": %s heap allocations per request, per heaptrack" % f0(heap_per)) if heap_per else ""))
        text += "."
    elif heap_per:
        text += " heaptrack (section 6) counts %s heap allocations per request." % f0(heap_per)
    hl = hk.get("lost") or 0
    text += (" adnanh/webhook answers before its command runs%s." % (
        (" (and loses deliveries: %s of its acknowledged at -c%d never ran, as the table shows)" % (f0(hl), c))
        if hl else ""))
    if g8 and g8["d"].get("syncs") and g8["rate"] < 2 * (intake.get(("webhook", 8)) or {}).get("rate", 0):
        text += (" At -c8 the CPU is not the limit but the flush each request waits for (one every %s ms): "
                 "2× needs a round trip of %s ms per connection, now %s ms; a flush covers only requests already "
                 "in flight (%s here, of at most 8), so what would close that one is a disk that flushes "
                 "faster." % (
                     f2(g8["secs"] * 1000.0 / g8["d"]["syncs"]),
                     f2(8 * 1000.0 / (2 * intake[("webhook", 8)]["rate"])), f2(8 * 1000.0 / g8["rate"]),
                     f1(g8["per_sync"])))
    text += (" What would close it at -c64, keeping every 202 durable: fewer allocations per request in the HTTP "
             "and JSON path%s; one multi-row INSERT per group instead of an INSERT and a SAVEPOINT per "
             "request; the readable copy written lazily (the journal holds the body); and the patch-id "
             "index (`deliveries_patch_seq`), where each fresh, random id reads and dirties a page of its "
             "own." % ((" (heaptrack's %s)" % f0(heap_per)) if heap_per else ""))
    misses.append(("Durable intake", text))
    break  # one paragraph covers both connection counts: same cause
for c in (8, 64):
    g, fl = intake.get(("gr", c)), intake.get(("flask", c))
    if g and fl and g["rate"] < 30 * fl["rate"]:
        text = ("%s against 30×: the Flask pipeline acknowledged %s/s, Ghost Runner %s/s." % (
            ratio(g["rate"], fl["rate"]), f0(fl["rate"]), f0(g["rate"])))
        if c == 8 and g["d"].get("syncs"):
            # A closed loop of c senders: each connection gets one answer per round trip.
            need = 30 * fl["rate"]
            every = g["secs"] * 1000.0 / g["d"]["syncs"]
            text += (" With %d senders that rate needs a round trip of %s ms per connection (now %s ms), "
                     "while every request waits for a flush of the journal to disk (one every %s ms in this "
                     "run; 0 acknowledged lost depends on it): the target asks for a disk whose flush "
                     "takes about half that round trip, or for answers before the flush, which durability "
                     "rules out. The CPU work in the paragraph above is not what limits -c8." % (
                         c, f2(c * 1000.0 / need), f2(c * 1000.0 / g["rate"]), f2(every)))
        else:
            text += " The cause is the CPU per request, as above; the fixes named there apply."
        misses.append(("Intake against Flask, %d connections" % c, text))

# ------------------------------------------------------------------ assemble
out = []
o = out.append
o("# Benchmarks")
o("")
o("Generated by `./dev bench` (`bench/run`), which installs the peers from Debian packages, builds, runs "
  "everything below unattended and rewrites this page; do not edit it by hand. The machine is shared "
  "and noisy (two cores; other engineers compile and fuzz on it), so compare the tools **within one "
  "run, as ratios**; the absolute figures move from run to run.")
o("")
if wall.get("quick"):
    o("> **Quick run** (`BENCH_QUICK=1`): shortened durations and sizes; not the reference figures.")
    o("")
o("| | |")
o("|---|---|")
o("| date | %s |" % m.get("date", "?"))
o("| machine | %s, %s cores, %s GiB RAM; load average at start %s |" % (m.get("cpu", "?"), m.get("nproc", "?"), m.get("ram_gib", "?"), m.get("load", "?")))
o("| system | %s, kernel %s |" % (m.get("os", "?"), m.get("kernel", "?")))
o("| Ghost Runner | `%s` at %s, Qt %s, RelWithDebInfo (`./dev build`) |" % (m.get("version", "?"), m.get("git_rev", "?"), m.get("qt", "?")))
t = m.get("tools", {})
o("| peers | adnanh/webhook %s; Flask %s on Python %s; git %s; GNU patch %s; %s |" % (
    t.get("webhook", "?"), t.get("flask", "?"), t.get("python", "?"), t.get("git", "?"), t.get("patch", "?"), t.get("wrk", "wrk")))
o("| durable state | journals and logs on %s (fsync reaches the disk); the apply benchmark on tmpfs |" % m.get("state_fs", "?"))
o("| open-file limit | `ulimit -n` = %s for every process started |" % m.get("ulimit_n", "?"))
phases = ""
if R.get("phase_b"):
    phases = "; phases A (intake) %s s, B (waiting, not measured) %s s, C (the rest) %s s" % (
        f0((R.get("phase_a") or {}).get("seconds")), f0(R["phase_b"].get("seconds")),
        f0((R.get("phase_c") or {}).get("seconds")))
o("| whole run | **%s s** (%s min %s s) for `bench/run`, after `./dev bench` has checked the packages and the build%s |" % (
    wall.get("seconds", "?"), int(wall.get("seconds", 0)) // 60, int(wall.get("seconds", 0)) % 60, phases))
o("")
o("## Targets")
o("")
o("| target | measured | |")
o("|---|---|---|")
for name, measured, ok in targets:
    o("| %s | %s | %s |" % (name, measured, "met" if ok else "**missed**"))
o("")
o("Every miss is explained, with what would close it, under [Misses](#misses-why-and-what-would-close-them).")
o("")
out += sections
if misses:
    o("## Misses: why, and what would close them")
    o("")
    for title, para in misses:
        o("- **%s.** %s" % (title, para))
        o("")
o("## Commands")
o("")
o("`$WORK` is a `mktemp -d` directory on the disk, `$SHM` one on `/dev/shm`, `PORT` an ephemeral port; "
  "every instance is fresh, and every process `bench/run` starts is stopped by its trap. The run is in "
  "three phases: A (intake, measured one tool at a time), B (not measured, only waited for, all at "
  "once: the backlogs being applied, the journal being filled, the tray idling), C (latency, apply, "
  "start-up and queries, profiles, measured one at a time).")
o("")
order = []
for sec, c in CMDS:
    if sec not in order:
        order.append(sec)
for sec in order:
    o("**%s**" % sec)
    o("")
    o("```sh")
    seen = set()
    for s2, c in CMDS:
        if s2 == sec and c not in seen:
            seen.add(c)
            o(c)
    o("```")
    o("")
print("\n".join(out).rstrip() + "\n")
