#!/usr/bin/env python3
"""Side-by-side tables of Moss vs mosquitto from scripts/bench/broker.sh's result directories."""
import glob, json, os, re, statistics, sys
from collections import defaultdict

out = sys.argv[1]

def rows(broker, phase_glob):
    result = []
    for path in sorted(glob.glob(os.path.join(out, f"{broker}-{phase_glob}", "results.jsonl"))):
        for line in open(path):
            if line.strip():
                result.append(json.loads(line))
    return result

def scen(r):
    return "%s %dp/%ds" % (r["mode"], r["pubs"], r["subs"])

def memory(broker):
    path = os.path.join(out, f"{broker}-mem", "memory.txt")
    return open(path).read().splitlines() if os.path.exists(path) else []

print("### Saturation throughput: delivered msg/s, median of %d alternated rounds (broker on 1 core)\n"
      % max(1, len([d for d in glob.glob(os.path.join(out, "moss-max-r*")) if os.path.isdir(d)])))
print("| scenario | QoS | payload | mosquitto | Moss | Moss / mosquitto | loss % mosquitto / Moss | broker CPU % mosquitto / Moss | generator CPU % (Moss run) |")
print("|---|---|---|---|---|---|---|---|---|")
data = {b: defaultdict(list) for b in ("mosquitto", "moss")}
for b in data:
    for r in rows(b, "max-r*"):
        if "mode" in r:
            data[b][(scen(r), r["qos"], r["size"])].append(r)
for key in sorted(data["mosquitto"].keys() | data["moss"].keys(), key=lambda k: (k[0], k[1], k[2])):
    m, s = data["mosquitto"].get(key, []), data["moss"].get(key, [])
    def med(v, f): return statistics.median([x[f] for x in v]) if v else float("nan")
    dm, ds = med(m, "deliver_rate"), med(s, "deliver_rate")
    ratio = ds / dm if dm else float("nan")
    print("| %s | %d | %d B | %.0f | %.0f | **%.2f×** | %.2f / %.2f | %.0f / %.0f | %.0f |" % (
        key[0], key[1], key[2], dm, ds, ratio, med(m, "loss_pct"), med(s, "loss_pct"),
        med(m, "broker_cpu_pct"), med(s, "broker_cpu_pct"), med(s, "gen_cpu_pct")))

lat = {b: {r["label"]: r for r in rows(b, "lat") if "mode" in r} for b in ("mosquitto", "moss")}
if lat["moss"] or lat["mosquitto"]:
    print("\n### Latency at fixed offered load (µs; open loop, intended-send-time timestamps)\n")
    print("| delivered target | scenario | QoS | payload | p50 mosquitto / Moss | p99 mosquitto / Moss | p99.9 mosquitto / Moss | loss % mosquitto / Moss |")
    print("|---|---|---|---|---|---|---|---|")
    for label in sorted(lat["mosquitto"].keys() | lat["moss"].keys(), key=lambda l: (int(re.match(r"lat(\d+)", l).group(1)), l)):
        m, s = lat["mosquitto"].get(label, {}), lat["moss"].get(label, {})
        r = m or s
        lvl = re.match(r"lat(\d+)-", label).group(1)
        g = lambda d, f: d.get(f, float("nan"))
        print("| %s/s | %s | %d | %d B | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f | %.2f / %.2f |" % (
            lvl, scen(r), r["qos"], r["size"], g(m, "lat_p50_us"), g(s, "lat_p50_us"), g(m, "lat_p99_us"),
            g(s, "lat_p99_us"), g(m, "lat_p999_us"), g(s, "lat_p999_us"), g(m, "loss_pct"), g(s, "loss_pct")))

mm, ms = memory("mosquitto"), memory("moss")
if mm or ms:
    print("\n### Memory (VmRSS of the broker process)\n")
    print("```")
    for name, lines in (("mosquitto", mm), ("moss", ms)):
        for line in lines:
            print("%-9s %s" % (name, line))
    print("```")
