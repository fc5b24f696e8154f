#!/usr/bin/env python3
"""Deterministic large change for the apply benchmark: a base tree and a git-style unified diff.

  gen_large_change.py BASE_DIR DIFF_FILE [--files N] [--seed S]

BASE_DIR is created (it must not exist) with N text files of 200 lines spread over 30
directories; DIFF_FILE gets one git-style diff that changes most of them: 4 hunks of 4 replaced
lines in each modified file, plus new files, deleted files, pure renames and renames with edits.
The same seed always gives the same bytes. Prints one JSON line with what it wrote.
"""
import argparse
import json
import os
import random
import sys

LINES = 200
WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
         "rho sigma tau upsilon phi chi psi omega ghost runner patch hunk delivery journal "
         "webhook relay apply commit confirm queue worker engine").split()


def line(rng):
    n = rng.randint(3, 9)
    return "    " * rng.randint(0, 3) + " ".join(rng.choice(WORDS) for _ in range(n)) + \
        ";  // %08x" % rng.getrandbits(32)


def hunk_header(old_start, old_len, new_start, new_len):
    def rng_part(start, length):
        return "%d" % start if length == 1 else "%d,%d" % (start, length)
    return "@@ -%s +%s @@" % (rng_part(old_start, old_len), rng_part(new_start, new_len))


def modify(rng, old, hunks=4, changed=4, ctx=3):
    """Returns (new_lines, hunk_text_lines, changed_line_count)."""
    n = len(old)
    # Non-overlapping hunk positions: one per equal slice of the file.
    slot = n // hunks
    new = list(old)
    out = []
    delta = 0
    count = 0
    edits = []
    for h in range(hunks):
        lo = h * slot + ctx
        hi = (h + 1) * slot - ctx - changed
        at = rng.randint(lo, hi)
        repl = [line(rng) for _ in range(changed)]
        edits.append((at, repl))
    for at, repl in edits:
        s = max(0, at - ctx)
        e = min(n, at + changed + ctx)
        before = old[s:at]
        after = old[at + changed:e]
        old_len = e - s
        new_len = len(before) + len(repl) + len(after)
        out.append(hunk_header(s + 1, old_len, s + 1 + delta, new_len))
        out += [" " + l for l in before]
        out += ["-" + l for l in old[at:at + changed]]
        out += ["+" + l for l in repl]
        out += [" " + l for l in after]
        count += 2 * changed
    # Apply the edits back to front so positions stay valid.
    for at, repl in reversed(edits):
        new[at:at + changed] = repl
    return new, out, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("diff")
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=20261123)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    if os.path.exists(a.base):
        sys.exit("gen_large_change: %s exists" % a.base)

    paths = ["src/d%02d/file_%04d.c" % (i % 30, i) for i in range(a.files)]
    contents = {}
    for p in paths:
        os.makedirs(os.path.join(a.base, os.path.dirname(p)), exist_ok=True)
        lines = [line(rng) for _ in range(LINES)]
        contents[p] = lines
        with open(os.path.join(a.base, p), "w") as f:
            f.write("\n".join(lines) + "\n")

    order = list(paths)
    rng.shuffle(order)
    n_del = a.files // 75          # 40 of 3000
    n_ren = a.files // 75          # pure renames
    n_renmod = a.files // 150      # renames with edits
    deleted = set(order[:n_del])
    renamed = order[n_del:n_del + n_ren]
    renmod = order[n_del + n_ren:n_del + n_ren + n_renmod]
    n_new = a.files // 50          # 60 new files of 100 lines

    diff = []
    stats = {"files": a.files, "modified": 0, "deleted": n_del, "renamed": n_ren,
             "renamed_modified": n_renmod, "new": n_new, "changed_lines": 0}
    ren_set = set(renamed)
    renmod_set = set(renmod)
    for p in paths:  # in path order, as git prints them
        old = contents[p]
        if p in deleted:
            diff.append("diff --git a/%s b/%s" % (p, p))
            diff.append("deleted file mode 100644")
            diff.append("--- a/%s" % p)
            diff.append("+++ /dev/null")
            diff.append(hunk_header(1, len(old), 0, 0))
            diff += ["-" + l for l in old]
            stats["changed_lines"] += len(old)
        elif p in ren_set or p in renmod_set:
            q = p.replace("/file_", "/moved_")
            diff.append("diff --git a/%s b/%s" % (p, q))
            if p in ren_set:
                diff.append("similarity index 100%")
                diff.append("rename from %s" % p)
                diff.append("rename to %s" % q)
            else:
                _, hunks, count = modify(rng, old, hunks=2)
                diff.append("similarity index 92%")
                diff.append("rename from %s" % p)
                diff.append("rename to %s" % q)
                diff.append("--- a/%s" % p)
                diff.append("+++ b/%s" % q)
                diff += hunks
                stats["changed_lines"] += count
        else:
            _, hunks, count = modify(rng, old)
            diff.append("diff --git a/%s b/%s" % (p, p))
            diff.append("--- a/%s" % p)
            diff.append("+++ b/%s" % p)
            diff += hunks
            stats["modified"] += 1
            stats["changed_lines"] += count
    for i in range(n_new):
        p = "src/new/added_%03d.c" % i
        lines = [line(rng) for _ in range(100)]
        diff.append("diff --git a/%s b/%s" % (p, p))
        diff.append("new file mode 100644")
        diff.append("--- /dev/null")
        diff.append("+++ b/%s" % p)
        diff.append(hunk_header(0, 0, 1, len(lines)))
        diff += ["+" + l for l in lines]
        stats["changed_lines"] += len(lines)
    text = "\n".join(diff) + "\n"
    with open(a.diff, "w") as f:
        f.write(text)
    stats["diff_bytes"] = len(text.encode())
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
