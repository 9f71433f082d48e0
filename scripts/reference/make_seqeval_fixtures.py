"""Writes Tests/Fixtures/seqeval_cases.json: entity spans and entity-level precision/recall/F1 from seqeval
(default, conlleval-compatible mode) and classification accuracy / per-class and macro F1 from scikit-learn,
the reference of llm.metrics (Tests/lua/heads_spec.lua). The tag cases cover the tricky chunkings: I- without
B-, a type change inside a chunk, single-token entities, B- after B-, bare B/I tags, IOBES tags, a predicted
type absent from gold, and several sentences.
Run: /tmp/torchvenv/bin/pip install seqeval scikit-learn; /tmp/torchvenv/bin/python scripts/reference/make_seqeval_fixtures.py"""
import json
import os
import random

from seqeval.metrics import classification_report
from seqeval.metrics.sequence_labeling import get_entities
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

tag_cases = [
    # (name, gold sentences, predicted sentences)
    ("exact", [["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-LOC"]]),
    ("I without B", [["O", "I-PER", "I-PER", "O"]], [["O", "B-PER", "I-PER", "O"]]),
    ("type change", [["B-PER", "I-LOC", "I-LOC", "O"]], [["B-PER", "I-PER", "I-LOC", "O"]]),
    ("single tokens", [["B-DATE", "B-DATE", "O", "B-NUM"]], [["B-DATE", "I-DATE", "O", "B-NUM"]]),
    ("I after O start", [["I-LOC", "O", "I-LOC"]], [["I-LOC", "I-LOC", "I-LOC"]]),
    ("bare tags", [["B", "I", "O", "B"]], [["B", "I", "I", "O"]]),
    ("iobes", [["S-PER", "O", "B-LOC", "E-LOC"]], [["S-PER", "O", "B-LOC", "I-LOC"]]),
    ("extra predicted type", [["B-PER", "O", "O"]], [["B-PER", "O", "B-MISC"]]),
    ("sentences", [["B-PER", "I-PER"], ["I-PER", "O"], ["B-LOC"]], [["B-PER", "I-PER"], ["B-PER", "O"], ["O"]]),
    ("all O", [["O", "O"]], [["O", "B-PER"]]),
]
rng = random.Random(7)
tags = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-DATE", "I-DATE"]
for i in range(4):
    gold = [[rng.choice(tags) for _ in range(rng.randint(3, 12))] for _ in range(6)]
    pred = [[t if rng.random() < 0.7 else rng.choice(tags) for t in s] for s in gold]
    tag_cases.append(("random %d" % i, gold, pred))

out_tags = []
for name, gold, pred in tag_cases:
    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    per = {k: {m: float(v[m]) for m in ("precision", "recall", "f1-score", "support")}
           for k, v in report.items() if "avg" not in k}
    flat = [t for s in gold for t in s + ["O"]]
    out_tags.append({
        "name": name, "gold": gold, "pred": pred,
        "goldEntities": [[t, b + 1, e + 1] for t, b, e in get_entities(gold)],
        "predEntities": [[t, b + 1, e + 1] for t, b, e in get_entities(pred)],
        "flatLength": len(flat),
        "perType": per,
        "micro": {m: float(report["micro avg"][m]) for m in ("precision", "recall", "f1-score")},
        "macro": {m: float(report["macro avg"][m]) for m in ("precision", "recall", "f1-score")},
        "weighted": {m: float(report["weighted avg"][m]) for m in ("precision", "recall", "f1-score")},
    })

class_cases = []
for i in range(3):
    labels = ["art", "law", "love", "food"][: 2 + i]
    gold = [rng.choice(labels) for _ in range(40)]
    pred = [g if rng.random() < 0.6 else rng.choice(labels + ["zen"]) for g in gold]
    names = sorted(set(gold) | set(pred))
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=names, zero_division=0)
    class_cases.append({
        "gold": gold, "pred": pred, "labels": names, "accuracy": accuracy_score(gold, pred),
        "macroF1": f1_score(gold, pred, labels=names, average="macro", zero_division=0),
        "microF1": f1_score(gold, pred, labels=names, average="micro", zero_division=0),
        "weightedF1": f1_score(gold, pred, labels=names, average="weighted", zero_division=0),
        "perClass": {n: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]), "support": int(s[j])}
                     for j, n in enumerate(names)},
    })

path = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "seqeval_cases.json")
with open(path, "w") as fh:
    json.dump({"tags": out_tags, "classification": class_cases}, fh, indent=1)
print("wrote", os.path.normpath(path), len(out_tags), "tag cases,", len(class_cases), "classification cases")
