"""The table of a set of `budget_pretrain.py` runs, from their `record.json` files.

    python benchmarks/budget_pretrain_table.py NAME "TITLE" LABEL=DIR [LABEL=DIR ...]
        [--start-names PATH=NAME ...] [--out benchmarks/results]

Writes `NAME.md` and `NAME.json` under `--out`: per run, its job, start, batch, terms, the
time per step its calibration measured, the steps its schedule was sized to and those it did
(a run stopped by its time limit ended before its learning rate had decayed), its wall time
and the D errors (float32, as the run measured them) at the held-out parameters.
"""

import argparse
import json
import pathlib

from _results import save_table


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("title")
    p.add_argument("runs", nargs="+", help="LABEL=DIR, DIR holding a run's record.json")
    p.add_argument("--start-names", nargs="*", default=[],
                   help="PATH=NAME: show a run's --init PATH as NAME (say, an earlier run)")
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    names = dict(spec.split("=", 1) for spec in args.start_names)
    records = [(label, json.loads((pathlib.Path(folder) / "record.json").read_text()))
               for label, folder in (spec.split("=", 1) for spec in args.runs)]
    # the emphasis on the first snapshots, a column only where a run used it
    early = any(r["args"].get("early_weight", 0) > 0 for _, r in records)
    lines = [args.title, "",
             "| run | job | start | batch | residual weight | " + ("early weight (fade) | "
                                                              if early else "")
             + "peak rate | device | s / step (calibration) | steps sized / done | training "
             "[s] | loss (last) | D error (held out) |",
             "|---|---|---|---|---|" + ("---|" if early else "") + "---|---|---|---|---|---|---|"]
    rows = []
    for label, r in records:
        a = r["args"]
        start = "fresh (width {width}, depth {depth}, rank {rank}, n_freq {n_freq})".format(**a) \
            if not a["init"] else names.get(a["init"], a["init"])
        errs = ", ".join(f"{e['error']:.2e} ({e['mu']:g})" for e in r["d_errors"])
        stop = "" if r["stopped"] is None else f" ({r['stopped']})"
        fade = a.get("early_fade") or "t span / 40"
        weight = a.get("early_weight", 0)
        emphasis = ("" if not early else f"{weight:g} ({fade}) | " if weight > 0 else "- | ")
        lines.append(
            f"| {label} | {a['job']} | {start} | {a['batch_snapshots']} x {a['batch_points']} | "
            f"{a['residual_weight']:g} | {emphasis}{a['learning_rate']:g} | {r['devices'][0]} | "
            f"{r['calibration']['per_step_s'] * 1e3:.2f} ms | {r['steps']} / "
            f"{r['done']}{stop} | {r['time_s']:.0f} | {r['last_loss'][-1]:.2e} | {errs} |")
        rows.append({"label": label, **{k: v for k, v in r.items() if k != "history"}})
    save_table(args.out, args.name, lines, rows)


if __name__ == "__main__":
    main()
