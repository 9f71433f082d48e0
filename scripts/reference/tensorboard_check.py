#!/usr/bin/env python3
"""Loads llmscript's TensorBoard event files with the `tensorboard` PyPI package's reader (EventAccumulator)
and prints what it found as JSON: scalars, histograms and text per tag. Used to check llm.observe.tfevents
(Tests/Fixtures/observe/*.tfevents was verified with it; CI, which cannot import tensorboard, checks that
fixture's framing with the Lua reader in Tests/lua/observe_spec.lua).

usage: /tmp/torchvenv/bin/python scripts/reference/tensorboard_check.py EVENT_FILE_OR_DIR
(pip install tensorboard into the venv first: scripts/reference/venv.sh makes the venv.)
"""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator, TENSORS, SCALARS, HISTOGRAMS
from tensorboard.util import tensor_util


def main(path):
    acc = EventAccumulator(path, size_guidance={TENSORS: 0, SCALARS: 0, HISTOGRAMS: 0})
    acc.Reload()
    tags = acc.Tags()
    out = {"scalars": {}, "histograms": {}, "text": {}}
    for tag in tags.get("scalars", []):
        out["scalars"][tag] = [[e.step, e.value] for e in acc.Scalars(tag)]
    for tag in tags.get("histograms", []):
        out["histograms"][tag] = [{"step": e.step, "num": e.histogram_value.num, "min": e.histogram_value.min,
                                   "max": e.histogram_value.max, "sum": e.histogram_value.sum,
                                   "limits": list(e.histogram_value.bucket_limit), "counts": list(e.histogram_value.bucket)}
                                  for e in acc.Histograms(tag)]
    for tag in tags.get("tensors", []):
        texts = []
        for e in acc.Tensors(tag):
            v = tensor_util.make_ndarray(e.tensor_proto)
            texts.append([e.step, v.item().decode("utf-8") if v.shape == () else [x.decode("utf-8") for x in v.flat]])
        out["text"][tag] = texts
    out["plugins"] = {p: sorted(acc.PluginTagToContent(p).keys()) for p in ["text"]}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
