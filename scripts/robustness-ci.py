#!/usr/bin/env python3
"""Referable AUC, sensitivity and specificity with patient-level bootstrap 95% intervals for several model folders,
on the validation split (<model>/validation/predictions.csv) and on any evaluate output (<model>/evaluation-*/), plus
the paired AUC difference of each model against the first on the same images.

    python3 scripts/robustness-ci.py /path/none /path/graham /path/clahe

Models compared on one set must have been measured on the same images (the same split for validation).

Standard library only. Referable = grade >= 2; P(referable) = p2 + p3 + p4; the default decision is the model's
argmax grade >= 2, as DrWeb grades.
"""
import csv, glob, os, random, sys


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {r["image"]: (int(r["true_grade"]) >= 2, float(r["p2"]) + float(r["p3"]) + float(r["p4"]), int(r["predicted_grade"]) >= 2)
            for r in rows}


def auc(items):
    pos = [s for y, s, _ in items if y]
    neg = [s for y, s, _ in items if not y]
    if not pos or not neg:
        return float("nan")
    ranked = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        avg = (i + j + 1) / 2  # ranks are 1-based; ties share the mean rank
        rank_sum += avg * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def sens_spec(items):
    tp = sum(1 for y, _, d in items if y and d)
    p = sum(1 for y, _, _ in items if y)
    tn = sum(1 for y, _, d in items if not y and not d)
    n = sum(1 for y, _, _ in items if not y)
    return tp / p if p else float("nan"), tn / n if n else float("nan"), (tp, p, tn, n)


def patient(image):
    return image.rsplit("_", 1)[0]


def interval(values):
    values = sorted(v for v in values if v == v)
    return values[int(0.025 * len(values))], values[int(0.975 * len(values)) - 1]


def main(folders, resamples=2000, seed=42):
    sets = {}
    for folder in folders:
        sets.setdefault("validation", {})[folder] = read(os.path.join(folder, "validation", "predictions.csv"))
        for ev in sorted(glob.glob(os.path.join(folder, "evaluation-*", "predictions.csv"))):
            sets.setdefault(os.path.basename(os.path.dirname(ev))[len("evaluation-"):], {})[folder] = read(ev)
    for name, models in sets.items():
        if len({frozenset(m) for m in models.values()}) > 1:
            # Different splits (e.g. another seed): pairing them would compare different images, so refuse.
            print(f"== {name}: the models were measured on different images; run them separately, grouped by split")
            continue
        images = sorted(next(iter(models.values())))
        patients = sorted({patient(i) for i in images})
        by_patient = {p: [i for i in images if patient(i) == p] for p in patients}
        rng = random.Random(seed)
        draws = [[i for _ in patients for i in by_patient[rng.choice(patients)]] for _ in range(resamples)]
        print(f"== {name}: {len(images)} images of {len(patients)} patients, {resamples} patient-level bootstrap resamples")
        first = folders[0]
        for folder, preds in models.items():
            items = [preds[i] for i in images]
            a = auc(items)
            se, sp, (tp, p, tn, n) = sens_spec(items)
            boot = [auc([preds[i] for i in d]) for d in draws]
            lo, hi = interval(boot)
            line = f"{os.path.basename(folder.rstrip('/')):>10}: AUC {a:.3f} [{lo:.3f}, {hi:.3f}]  sens {se:.3f} ({tp}/{p})  spec {sp:.3f} ({tn}/{n})"
            if folder != first:
                base = models[first]
                diff = [auc([preds[i] for i in d]) - auc([base[i] for i in d]) for d in draws]
                dlo, dhi = interval(diff)
                line += f"  AUC - {os.path.basename(first.rstrip('/'))}: {a - auc([base[i] for i in images]):+.3f} [{dlo:+.3f}, {dhi:+.3f}]"
            print(line)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
