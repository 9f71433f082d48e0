"""Writes Tests/Fixtures/opacus_rdp.json: epsilon at delta from Opacus's RDPAccountant (default alphas) for a
grid of (noise multiplier sigma, sample rate q, steps, delta), the reference of llm.privacy.accountant
(Tests/lua/dpsgd_spec.lua). Run: /tmp/torchvenv/bin/pip install opacus; /tmp/torchvenv/bin/python scripts/reference/make_opacus_fixtures.py"""
import json
import os

import opacus
from opacus.accountants import RDPAccountant

cases = []
for sigma, q, steps, delta in [(1.1, 0.01, 1000, 1e-5), (0.8, 0.05, 200, 1e-6), (2.0, 0.004, 10000, 1e-5),
                                (0.6, 0.1, 50, 1e-5), (1.0, 1.0, 10, 1e-5), (4.0, 0.02, 3000, 1e-7),
                                (0.5, 0.001, 100000, 1e-5), (1.3, 0.25, 20, 1e-3)]:
    acc = RDPAccountant()
    acc.history = [(sigma, q, steps)]
    eps, alpha = acc.get_privacy_spent(delta=delta)
    cases.append({"sigma": sigma, "q": q, "steps": steps, "delta": delta, "epsilon": float(eps), "alpha": float(alpha)})
# a history of two phases
acc = RDPAccountant()
acc.history = [(1.0, 0.02, 300), (1.5, 0.01, 500)]
eps, alpha = acc.get_privacy_spent(delta=1e-5)
out = {"opacus": opacus.__version__, "cases": cases,
       "history": {"steps": [[1.0, 0.02, 300], [1.5, 0.01, 500]], "delta": 1e-5, "epsilon": float(eps), "alpha": float(alpha)}}
path = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "opacus_rdp.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print(path)
