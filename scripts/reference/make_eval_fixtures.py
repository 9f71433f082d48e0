"""make_eval_fixtures.py: checks `llmscript eval`'s multiple-choice scoring against lm-evaluation-harness.

1. runs scripts/reference/make_eval_fixtures.lua (a seeded BPE GPT checkpoint and a JSONL task under
   Tests/Fixtures/eval/, the model exported to the HF layout in a temporary folder);
2. runs lm-eval (`hf` model, a custom task from a YAML over the local JSONL, HF_DATASETS_OFFLINE=1, fp32,
   --log_samples) and writes Tests/Fixtures/eval/expected.json: lm-eval's per-choice loglikelihoods and its
   acc / acc_norm, which Tests/lua/eval_spec.lua checks our numbers against without Python;
3. runs `llmscript eval CK mc.jsonl --json` and prints the largest difference (exit 1 above 1e-4).
Usage: PY=$(scripts/reference/venv.sh lm-eval transformers accelerate) && "$PY" scripts/reference/make_eval_fixtures.py
       [--llmscript .build/debug/llmscript]
"""
import argparse, glob, json, os, subprocess, sys, tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FIX = os.path.join(ROOT, 'Tests', 'Fixtures', 'eval')

TASK_YAML = """task: llms_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {jsonl}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{context}}}}"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: "{{{{gold}}}}"
metric_list:
  - metric: acc
  - metric: acc_norm
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--llmscript', default=os.path.join(ROOT, '.build', 'debug', 'llmscript'))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='lmeval-')
    hf = os.path.join(tmp, 'hf')
    subprocess.run([a.llmscript, os.path.join(ROOT, 'scripts/reference/make_eval_fixtures.lua'), hf], check=True, cwd=ROOT)
    tasks = os.path.join(tmp, 'tasks')
    os.makedirs(tasks)
    with open(os.path.join(tasks, 'llms_mc.yaml'), 'w') as f:
        f.write(TASK_YAML.format(jsonl=os.path.join(FIX, 'mc.jsonl')))
    env = dict(os.environ, HF_DATASETS_OFFLINE='1', HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
    out = os.path.join(tmp, 'out')
    subprocess.run([sys.executable, '-m', 'lm_eval', '--model', 'hf', '--model_args', f'pretrained={hf},dtype=float32',
                    '--tasks', 'llms_mc', '--include_path', tasks, '--device', 'cpu', '--batch_size', '1',
                    '--log_samples', '--output_path', out], check=True, env=env)
    samples = sorted(glob.glob(os.path.join(out, '**', 'samples_llms_mc_*.jsonl'), recursive=True))[-1]
    results = sorted(glob.glob(os.path.join(out, '**', 'results_*.json'), recursive=True))[-1]
    docs = [json.loads(l) for l in open(samples)]
    docs.sort(key=lambda d: d['doc_id'])
    res = json.load(open(results))['results']['llms_mc']
    expected = {
        'source': 'lm-eval ' + subprocess.run([sys.executable, '-m', 'pip', 'show', 'lm-eval'], capture_output=True,
                                              text=True).stdout.split('Version: ')[1].split()[0],
        'loglikelihoods': [[float(r[0][0]) for r in d['resps']] for d in docs],
        'acc': res['acc,none'], 'acc_norm': res['acc_norm,none'],
    }
    with open(os.path.join(FIX, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    ours = os.path.join(tmp, 'ours.json')
    subprocess.run([a.llmscript, 'eval', os.path.join(FIX, 'ck'), os.path.join(FIX, 'mc.jsonl'), '--json', ours], check=True)
    task = json.load(open(ours))['tasks'][0]
    diff = max(abs(x - y) for d, e in zip(task['perDoc'], expected['loglikelihoods'])
               for x, y in zip(d['loglikelihoods'], e))
    print(f"lm-eval: acc {expected['acc']:.4f} acc_norm {expected['acc_norm']:.4f}; "
          f"llmscript: acc {task['acc']:.4f} acc_norm {task['acc_norm']:.4f}; "
          f"max |loglikelihood difference| {diff:.2e} over {sum(len(e) for e in expected['loglikelihoods'])} choices")
    ok = diff < 1e-4 and abs(task['acc'] - expected['acc']) < 1e-9 and abs(task['acc_norm'] - expected['acc_norm']) < 1e-9
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
