"""What the LlamaBench forks leave behind, read in one place for bench/decode.sh,
bench/decode-pairs.sh and bench/oneshot.sh: JMH's JSON results, and the `fovea-weight-read` /
`fovea-weight-read4` lines the decode fork prints (the read rate of the model's own weights, mean and
before each measurement iteration; see LlamaBench's javadoc)."""
import json
import re

UNIT = {"ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9, "s/op": 1.0}


def results(path):
    """Each benchmark in a JMH JSON file as a dict: name (the method), params, seconds (the score, per
    op), forks, and each_s (the seconds per op of each measurement iteration of the first fork)."""
    out = []
    for r in json.load(open(path)):
        m = r["primaryMetric"]
        u = UNIT[m["scoreUnit"]]
        raw = m.get("rawData") or []
        out.append({"name": r["benchmark"].rsplit(".", 1)[-1], "params": r.get("params", {}), "seconds": m["score"] * u,
                    "forks": len(raw), "each_s": [v * u for v in raw[0]] if raw else []})
    return out


_READ = re.compile(r"fovea-weight-(read4?) dtype=(\S+) gbps=([0-9.]+)")


def weight_read(line):
    """A `fovea-weight-read[4]` line as (tag "read" or "read4", dtype, mean bytes/s, [bytes/s before each
    measurement iteration], source "file" or "arena"); None for any other line."""
    m = _READ.search(line)
    if not m:
        return None
    each = re.search(r"each=(\S+)", line)
    source = re.search(r"source=(\S+)", line)
    return (m.group(1), m.group(2), float(m.group(3)) * 1e9,
            [float(g) * 1e9 for g in each.group(1).split(",")] if each else [],
            source.group(1) if source else "file")
