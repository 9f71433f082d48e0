"""scripts/bench/tune_vs_optuna.py: Optuna's side of the tuning-sampler benchmark (scripts/bench/tune_vs_optuna.sh).

Runs Optuna's TPESampler / GPSampler / RandomSampler (defaults, seeded) on Branin (2-D), Hartmann-6 and a noisy
4-D sphere (the same definitions and the same noise stream as scripts/bench/tune_vs_optuna.lua) and prints one
JSON line per (function, sampler, seed): the simple regret (true value of the best observed trial minus the
optimum) after each checkpoint trial count, and the sampler's overhead per trial (wall time of the loop minus the
objective's time, divided by the trials: overhead_ms in wall time, overhead_cpu_ms in process CPU time, all threads).
Usage: python tune_vs_optuna.py --sampler tpe|gp|random --func branin|hartmann6|noisy --seeds 20 --trials 100
"""
import argparse
import json
import math
import time

import optuna

MASK = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def noise(seed, number):
    """N(0, 1) from (seed, trial number): splitmix64 twice and Box-Muller (identical in the Lua driver)."""
    a = splitmix64(seed * 1000003 + number)
    b = splitmix64(a)
    u1 = ((a >> 11) + 1) * 2.0 ** -53
    u2 = (b >> 11) * 2.0 ** -53
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


def branin(x):
    x1, x2 = x
    b, c, r, s, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


H6_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
H6_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
H6_ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = sum(H6_A[i][j] * (x[j] - H6_P[i][j] * 1e-4) ** 2 for j in range(6))
        total -= H6_ALPHA[i] * math.exp(-inner)
    return total


SPHERE_C = [1.0, -2.0, 0.5, 3.0]


def sphere4(x):
    return sum((x[i] - SPHERE_C[i]) ** 2 for i in range(4))


FUNCS = {
    'branin': (branin, [(-5, 10), (0, 15)], 0.39788735772973816, 0.0),
    'hartmann6': (hartmann6, [(0, 1)] * 6, -3.3223680114155147, 0.0),
    'noisy': (sphere4, [(-5, 5)] * 4, 0.0, 0.5),
}


def run(sampler_name, func_name, seed, trials, checkpoints):
    f, bounds, fmin, sd = FUNCS[func_name]
    if sampler_name == 'tpe':
        sampler = optuna.samplers.TPESampler(seed=seed)
    elif sampler_name == 'gp':
        sampler = optuna.samplers.GPSampler(seed=seed, deterministic_objective=(sd == 0))
    else:
        sampler = optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(sampler=sampler, direction='minimize')
    truth = {}
    obj_time = [0.0]

    def objective(trial):
        x = [trial.suggest_float('x%d' % i, lo, hi) for i, (lo, hi) in enumerate(bounds)]
        t0 = time.perf_counter()
        value = f(x)
        truth[trial.number] = value
        if sd > 0:
            value += sd * noise(seed, trial.number)
        obj_time[0] += time.perf_counter() - t0
        return value

    t0, c0 = time.perf_counter(), time.process_time()
    study.optimize(objective, n_trials=trials)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    regrets = {}
    best_obs, best_true = math.inf, math.inf
    for t in sorted(study.trials, key=lambda t: t.number):
        if t.value < best_obs:
            best_obs, best_true = t.value, truth[t.number]
        if t.number + 1 in checkpoints:
            regrets[str(t.number + 1)] = best_true - fmin
    return {'impl': 'optuna', 'sampler': sampler_name, 'func': func_name, 'seed': seed, 'regret': regrets,
            'overhead_ms': 1000 * (total - obj_time[0]) / trials, 'overhead_cpu_ms': 1000 * (cpu - obj_time[0]) / trials}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--sampler', required=True)
    p.add_argument('--func', required=True)
    p.add_argument('--seeds', type=int, default=20)
    p.add_argument('--first-seed', type=int, default=1)
    p.add_argument('--trials', type=int, default=100)
    a = p.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    checkpoints = {c for c in (20, 50, 100) if c <= a.trials} | {a.trials}
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        print(json.dumps(run(a.sampler, a.func, seed, a.trials, checkpoints)), flush=True)


if __name__ == '__main__':
    main()
