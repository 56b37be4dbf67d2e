#!/usr/bin/env python3
"""Ferrolite against the peer runtimes, side by side, in interleaved rounds.

Each round runs ../shared/peers/bench_peers.py (onnxruntime, LiteRT, OpenVINO, MNN, ncnn,
tract: whichever are installed) on the models, then `ferrolite bench` on the same .onnx
files. Per model and thread count it prints the median over rounds of the ratio
Ferrolite / best peer of that round (ratios, not absolute times: the machine is shared and
noisy), and Ferrolite's output agreement with onnxruntime on the peer script's seeded
input (max abs diff relative to onnxruntime's largest value).

    python3 scripts/compare_peers.py MODEL_DIR [--models a b] [--threads 1 2] [--rounds 3]
        [--runs 30] [--ferrolite target/release/ferrolite] [--peers ../shared/peers/bench_peers.py]
        [--json out.json] [--profile profile.yaml]

Needs python with numpy and onnxruntime (and the peers the script should time).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def ferrolite_bench(exe, model, threads, runs, warmup, profile=None):
    extra = ["--profile", profile] if profile else []
    out = subprocess.run(
        [exe, "bench", model, "--threads", str(threads), "--runs", str(runs), "--warmup", str(warmup), "--json"] + extra,
        check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def agreement(exe, model, x_path, profile=None):
    """Max abs diff of Ferrolite's output from onnxruntime's, relative to onnxruntime's
    largest value."""
    import onnxruntime as ort
    x = np.load(x_path)
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    ref = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    with tempfile.TemporaryDirectory() as d:
        extra = ["--profile", profile] if profile else []
        subprocess.run([exe, "run", model, "--input", x_path, "--output-dir", d] + extra, check=True, capture_output=True)
        got = np.load(os.path.join(d, "output_0.npy"))
    if got.shape != ref.shape:
        return float("inf")
    return float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("--models", nargs="+")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--max-seconds", type=float, default=10.0)
    ap.add_argument("--runtimes", nargs="+", help="peers to time (default: all the peer script knows)")
    ap.add_argument("--ferrolite", default=os.path.join(ROOT, "target", "release", "ferrolite"))
    ap.add_argument("--peers", default=os.path.join(ROOT, "..", "shared", "peers", "bench_peers.py"))
    ap.add_argument("--json", help="write every measurement here")
    ap.add_argument("--profile", help="a device profile (ferrolite tune) for Ferrolite's runs")
    a = ap.parse_args()

    names = a.models or sorted(f[:-5] for f in os.listdir(a.model_dir) if f.endswith(".onnx"))
    cache = os.path.join(a.model_dir, ".peers")
    rounds = []
    for r in range(a.rounds):
        print(f"== round {r + 1}/{a.rounds}: peers", flush=True)
        with tempfile.TemporaryDirectory() as d:
            cmd = [sys.executable, a.peers, a.model_dir, "--runs", str(a.runs), "--warmup", str(a.warmup),
                   "--max-seconds", str(a.max_seconds), "--threads", *map(str, a.threads), "--models", *names,
                   "--cache", cache, "--json", os.path.join(d, "p.json"), "--md", os.path.join(d, "p.md")]
            if a.runtimes:
                cmd += ["--runtimes", *a.runtimes]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(d, "p.json")) as f:
                peers = json.load(f)["results"]
        print(f"== round {r + 1}/{a.rounds}: ferrolite", flush=True)
        ours = {}
        for name in names:
            for t in a.threads:
                ours[(name, t)] = ferrolite_bench(a.ferrolite, os.path.join(a.model_dir, name + ".onnx"), t, a.runs, a.warmup, a.profile)
        rounds.append({"peers": peers, "ferrolite": {f"{k[0]}@{k[1]}": v for k, v in ours.items()}})

    print()
    print("| model | threads | ferrolite ms | best peer | peer ms | ratio (median of rounds) | agreement |")
    print("|---|---:|---:|---|---:|---:|---:|")
    summary = []
    for name in names:
        x_path = os.path.join(cache, f"{name}.input.npy")
        agree = agreement(a.ferrolite, os.path.join(a.model_dir, name + ".onnx"), x_path, a.profile) if os.path.exists(x_path) else None
        for t in a.threads:
            ratios, fer_ms, peer_ms, peer_names = [], [], [], []
            for rd in rounds:
                mine = rd["ferrolite"][f"{name}@{t}"]["median_ms"]
                cands = [p for p in rd["peers"] if p.get("model") == name and p.get("median_ms") is not None
                         and p.get("ok") and p.get("threads") == t]
                if not cands:
                    continue
                best = min(cands, key=lambda p: p["median_ms"])
                ratios.append(mine / best["median_ms"])
                fer_ms.append(mine)
                peer_ms.append(best["median_ms"])
                peer_names.append(best["runtime"])
            if not ratios:
                print(f"| {name} | {t} | - | - | - | - | - |")
                continue
            best_name = max(set(peer_names), key=peer_names.count)
            row = dict(model=name, threads=t, ferrolite_ms=statistics.median(fer_ms), best_peer=best_name,
                       peer_ms=statistics.median(peer_ms), ratio=statistics.median(ratios), rounds=len(ratios),
                       agreement=agree)
            summary.append(row)
            print(f"| {name} | {t} | {row['ferrolite_ms']:.3f} | {best_name} | {row['peer_ms']:.3f} | "
                  f"{row['ratio']:.2f} | {agree:.1e} |" if agree is not None else
                  f"| {name} | {t} | {row['ferrolite_ms']:.3f} | {best_name} | {row['peer_ms']:.3f} | {row['ratio']:.2f} | - |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rounds": rounds, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
