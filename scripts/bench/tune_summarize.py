"""scripts/bench/tune_summarize.py: the table of scripts/bench/tune_vs_optuna.sh from its JSON lines.

Reads DIR/{llms,optuna}_{sampler}_{func}.jsonl (one line per seed, from tune_vs_optuna.lua / .py) and prints a
Markdown table: per function and sampler, the seeds, the median simple regret after each checkpoint for
llmscript and Optuna with their ratio (llmscript / Optuna; <= 1.1 is the target), and the median sampler
overhead per trial in ms (CPU time where both sides recorded it, else wall time).
Usage: python tune_summarize.py DIR
"""
import json
import os
import statistics
import sys


def load(path):
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip()]


def median(xs):
    return statistics.median(xs) if xs else float('nan')


def main():
    d = sys.argv[1]
    print('| function | sampler | seeds (ours/Optuna) | trials | median regret llmscript | median regret Optuna | ratio | overhead ms/trial llmscript | Optuna |')
    print('|---|---|---|---|---|---|---|---|---|')
    for func in ('branin', 'hartmann6', 'noisy'):
        for sampler in ('random', 'tpe', 'gp'):
            ours, theirs = load(f'{d}/llms_{sampler}_{func}.jsonl'), load(f'{d}/optuna_{sampler}_{func}.jsonl')
            if not ours and not theirs:
                continue
            # compare on the seeds both sides ran
            common = {r['seed'] for r in ours} & {r['seed'] for r in theirs} if ours and theirs else None
            if common:
                ours = [r for r in ours if r['seed'] in common]
                theirs = [r for r in theirs if r['seed'] in common]
            key = 'overhead_cpu_ms' if all('overhead_cpu_ms' in r for r in ours + theirs) else 'overhead_ms'
            unit = 'cpu' if key == 'overhead_cpu_ms' else 'wall'
            cps = sorted({int(k) for r in ours + theirs for k in r['regret']})
            for cp in cps:
                a = median([r['regret'][str(cp)] for r in ours if str(cp) in r['regret']])
                b = median([r['regret'][str(cp)] for r in theirs if str(cp) in r['regret']])
                ratio = a / b if b > 0 else float('nan')
                oa = median([r[key] for r in ours if key in r])
                ob = median([r[key] for r in theirs if key in r])
                print(f'| {func} | {sampler} | {len(ours)}/{len(theirs)} | {cp} | {a:.4g} | {b:.4g} | {ratio:.2f} | {oa:.3g} ({unit}) | {ob:.3g} ({unit}) |')


if __name__ == '__main__':
    main()
