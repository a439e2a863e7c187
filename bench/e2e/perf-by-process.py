#!/usr/bin/env python3
"""Reads `perf script -F pid,tid,comm,ip,sym,dso` (with call chains) on stdin and prints, for each PID named on the
command line (name=PID; or name=comm:COMMAND for every process of that command), its share of all samples and its
top symbols by self and by inclusive samples (a symbol counted once per sample it appears in)."""
import collections, re, sys

targets = {}
for arg in sys.argv[1:]:
    name, value = arg.split("=", 1)
    targets[name] = value
top = 30
self_counts = {n: collections.Counter() for n in targets}
incl_counts = {n: collections.Counter() for n in targets}
dso_counts = {n: collections.Counter() for n in targets}
# JIT-compiled frames name their assembly in brackets: "instance void [Npgsql] Npgsql...".
assembly_counts = {n: collections.Counter() for n in targets}
assembly = re.compile(r"\[([A-Za-z][\w.]*)\] ")
samples = collections.Counter()
total = 0
header = re.compile(r"^\s*(\S.*?)\s+(\d+)/(\d+)\s")

def owner(comm, pid):
    for name, value in targets.items():
        if value.startswith("comm:") and comm == value[5:]:
            return name
        if value == pid:
            return name
    return None

def flush(who, frames):
    global total
    total += 1
    if who is None or not frames:
        return
    samples[who] += 1
    self_counts[who][frames[0][0]] += 1
    dso_counts[who][frames[0][1]] += 1
    m = assembly.search(frames[0][0])
    assembly_counts[who][m.group(1) if m else frames[0][1]] += 1
    for sym in {f[0] for f in frames}:
        incl_counts[who][sym] += 1

who, frames, in_sample = None, [], False
for line in sys.stdin:
    if not line.strip():
        if in_sample:
            flush(who, frames)
        who, frames, in_sample = None, [], False
        continue
    if not line.startswith((" ", "\t")):
        if in_sample:
            flush(who, frames)
        m = header.match(line)
        comm, pid = (m.group(1), m.group(2)) if m else ("?", "?")
        who, frames, in_sample = owner(comm, pid), [], True
        continue
    parts = line.strip().split(None, 1)
    if len(parts) < 2:
        continue
    rest = parts[1]
    dso = rest[rest.rfind("(") + 1:-1] if rest.endswith(")") else "?"
    sym = rest[: rest.rfind("(")].strip() if rest.endswith(")") else rest
    sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
    if sym == "[unknown]":
        sym = f"[unknown in {dso.split('/')[-1]}]"
    frames.append((sym[:150], dso.split("/")[-1]))
if in_sample:
    flush(who, frames)

for name in targets:
    n = samples[name]
    print(f"## {name}: {n} samples, {100.0 * n / max(total, 1):.1f}% of all {total} on the machine")
    if n == 0:
        continue
    print("### by shared object (self)")
    for dso, c in dso_counts[name].most_common(12):
        print(f"{100.0 * c / n:6.1f}%  {dso}")
    print("### by assembly (self; JIT-compiled code by its assembly, the rest by shared object)")
    for name_, c in assembly_counts[name].most_common(20):
        print(f"{100.0 * c / n:6.1f}%  {name_}")
    print("### by symbol (self)")
    for sym, c in self_counts[name].most_common(top):
        print(f"{100.0 * c / n:6.1f}%  {sym}")
    print("### by symbol (inclusive)")
    for sym, c in incl_counts[name].most_common(top + 20):
        print(f"{100.0 * c / n:6.1f}%  {sym}")
    print()
