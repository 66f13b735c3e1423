// Builds the project's own base model with no weights from the internet (`npm run base-model`):
// generate synthetic datasets → train from scratch on day scenes → evaluate on day, night and fog →
// fine-tune on ≤ 300 labelled night images (with a replay of day images the base was trained on, so it
// does not forget day) → evaluate again → write models/base/ (ONNX + model card).
// Each step is skipped when its output exists, so an interrupted run continues where it stopped.
// Knobs (env): BASE_COUNT (day images, default 3000), BASE_EPOCHS (16), BASE_FT_EPOCHS (30), BASE_FT_REPLAY
// (day images replayed in the fine-tune, 400), BASE_FT_NIGHT_REPEAT (night train images per epoch, 4), BASE_IMGSZ (320), BASE_DEVICE (auto), BASE_WORK (.data/base-model).
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
  copyFileSync,
  symlinkSync,
  rmSync,
} from 'node:fs';
import { join, resolve, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';

const root = resolve(import.meta.dirname, '..');
const work = resolve(root, process.env.BASE_WORK ?? '.data/base-model');
const outDir = join(root, 'models', 'base');
const count = Number(process.env.BASE_COUNT ?? 3000);
const epochs = Number(process.env.BASE_EPOCHS ?? 16);
const ftEpochs = Number(process.env.BASE_FT_EPOCHS ?? 30);
const ftReplay = Number(process.env.BASE_FT_REPLAY ?? 400);
const ftNightRepeat = Number(process.env.BASE_FT_NIGHT_REPEAT ?? 4);
const imgsz = Number(process.env.BASE_IMGSZ ?? 320);
const device = process.env.BASE_DEVICE ?? 'auto';
const SEED = 1;
mkdirSync(work, { recursive: true });

const log = (m) => process.stderr.write(`[base-model] ${m}\n`);
function run(cmd, args, opts = {}) {
  log(`$ ${[cmd, ...args].map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}`);
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', opts.capture ? 'pipe' : 'inherit', 'inherit'],
    cwd: root,
    env: { ...process.env, ...opts.env },
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) {
    log(`failed with exit code ${r.status}`);
    process.exit(r.status ?? 1);
  }
  return r.stdout?.toString() ?? '';
}

const scenes = join(root, 'scenes', 'bin', 'scenes.js');
function dataset(name, domain, n, seed, split) {
  const dir = join(work, name);
  if (!existsSync(join(dir, 'data.yaml'))) {
    run(process.execPath, [
      scenes,
      'generate',
      '--domain',
      domain,
      '--count',
      String(n),
      '--seed',
      String(seed),
      '--out',
      dir,
      '--imgsz',
      String(imgsz),
      '--split',
      split,
      '--overwrite',
    ]);
  } else log(`dataset ${name}: exists`);
  return dir;
}

const trainerEnv = { PYTHONPATH: join(root, 'control-plane', 'trainer'), PYTHONUNBUFFERED: '1' };
/**
 * Trains `name` on `data` at batch 16 (resuming its last.pt if any), stamping `model_version` into the model.
 * @param {{ name: string, data: string, epochs: number, valEvery: number, modelVersion: string, weights?: string }} o
 */
function train(o) {
  const { name, data } = o;
  const weights = o.weights ? ['--weights', o.weights] : [];
  const meta = ['--meta', `model_version=${o.modelVersion}`];
  const extra = [...weights, '--epochs', String(o.epochs), '--batch', '16', '--val-every', String(o.valEvery), ...meta];
  const out = join(work, name);
  if (!existsSync(join(out, 'model.onnx'))) {
    const resume = existsSync(join(out, 'last.pt')) ? ['--resume', join(out, 'last.pt')] : [];
    // Progress events are JSON lines on stdout; show epoch summaries.
    run(
      '/usr/bin/python3',
      [
        '-m',
        'edgefleet_trainer',
        'train',
        '--data',
        data,
        '--out',
        out,
        '--imgsz',
        String(imgsz),
        '--device',
        device,
        '--seed',
        String(SEED),
        '--log-every',
        '50',
        ...resume,
        ...extra,
      ],
      { env: trainerEnv },
    );
  } else log(`training ${name}: exists`);
  return out;
}

const evals = {};
function evaluate(key, model, data) {
  const file = join(work, `eval-${key}.json`);
  if (!existsSync(file)) {
    const out = run(
      process.execPath,
      [
        join(root, 'control-plane', 'bin', 'control-plane.js'),
        'eval',
        '--model',
        model,
        '--data',
        data,
        '--split',
        'test',
      ],
      { capture: true },
    );
    writeFileSync(file, out);
  }
  evals[key] = JSON.parse(readFileSync(file, 'utf8'));
  log(`${key}: mAP50 ${evals[key].mAP50.toFixed(3)}  mAP50-95 ${evals[key].mAP50_95.toFixed(3)}`);
}

const day = dataset('day', 'day', count, SEED, '0.9,0.1,0');
const dayTest = dataset('day-test', 'day', 300, 1001, '0,0,1');
const nightTest = dataset('night-test', 'night', 300, 1002, '0,0,1');
const fogTest = dataset('fog-test', 'fog', 300, 1003, '0,0,1');
const nightTrain = dataset('night-train', 'night', 300, 2001, '0.85,0.15,0');

/**
 * The fine-tune set: every labelled night image (train and val) plus `replay` day images (and a tenth as many
 * for val) from the base's own training set, linked under prefixed names. Replay is the usual guard against
 * forgetting: the new labels are the night images only; the day images were labelled already.
 */
function fineTuneSet(name, night, dayRoot, replay, nightRepeat) {
  const dir = join(work, name);
  if (existsSync(join(dir, 'data.yaml'))) {
    log(`dataset ${name}: exists`);
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  const link = (from, split, prefix, limit) => {
    const images = readdirSync(join(from, 'images', split))
      .sort()
      .slice(0, limit);
    mkdirSync(join(dir, 'images', split), { recursive: true });
    mkdirSync(join(dir, 'labels', split), { recursive: true });
    for (const image of images) {
      const stem = image.replace(/\.[^.]+$/, '');
      symlinkSync(join(from, 'images', split, image), join(dir, 'images', split, `${prefix}-${image}`));
      const label = join(from, 'labels', split, `${stem}.txt`);
      if (existsSync(label)) symlinkSync(label, join(dir, 'labels', split, `${prefix}-${stem}.txt`));
    }
    return images.length;
  };
  // Night images are seen several times per epoch (each time differently augmented), so the few new labels
  // outweigh the replayed day images.
  let nightTrain = 0;
  for (let r = 0; r < nightRepeat; r++) nightTrain += link(night, 'train', `night${r}`, Infinity);
  const counts = {
    nightTrain,
    nightVal: link(night, 'val', 'night', Infinity),
    dayTrain: link(dayRoot, 'train', 'day', replay),
    dayVal: link(dayRoot, 'val', 'day', Math.ceil(replay / 10)),
  };
  writeFileSync(
    join(dir, 'data.yaml'),
    `# night fine-tune: 300 labelled night images (train ones ${nightRepeat}x) + ${counts.dayTrain + counts.dayVal} replayed day images\npath: "${dir}"\ntrain: images/train\nval: images/val\nnc: 3\nnames:\n  0: person\n  1: bicycle\n  2: car\n`,
  );
  log(`dataset ${name}: ${JSON.stringify(counts)}`);
  return dir;
}

const base = train({ name: 'train-base', data: day, epochs, valEvery: 2, modelVersion: 'base-1' });
evaluate('base-day', join(base, 'model.onnx'), dayTest);
evaluate('base-night', join(base, 'model.onnx'), nightTest);
evaluate('base-fog', join(base, 'model.onnx'), fogTest);

const ftData = fineTuneSet('night-ft', nightTrain, day, ftReplay, ftNightRepeat);
const ft = train({
  name: 'finetune-night',
  data: ftData,
  weights: join(base, 'best.pt'),
  epochs: ftEpochs,
  valEvery: 3,
  modelVersion: 'base-1-night-ft',
});
evaluate('ft-night', join(ft, 'model.onnx'), nightTest);
evaluate('ft-day', join(ft, 'model.onnx'), dayTest);

mkdirSync(outDir, { recursive: true });
copyFileSync(join(base, 'model.onnx'), join(outDir, 'edgefleet-base.onnx'));
const sha = createHash('sha256')
  .update(readFileSync(join(outDir, 'edgefleet-base.onnx')))
  .digest('hex');
const trainMetrics = JSON.parse(readFileSync(join(base, 'metrics.json'), 'utf8'));
const m = (k) => evals[k].mAP50.toFixed(3);
const card = `# edgefleet-base (synthetic day scenes)

The project's own base detector, trained from scratch on procedurally generated scenes: no weights or
data from the internet. Reproduce with \`npm run base-model\` (this card and the ONNX file are its output).

| | |
| --- | --- |
| file | \`edgefleet-base.onnx\` (sha256 \`${sha}\`) |
| classes | ${JSON.stringify(trainMetrics.dataset?.names ?? ['person', 'bicycle', 'car'])} |
| input | ${imgsz}×${imgsz} RGB 0..1, Ultralytics output contract \`[1, 4+nc, N]\` |
| parameters | ${(trainMetrics.model?.params ?? 0).toLocaleString('en-US')} (\`${trainMetrics.model?.arch ?? 'edgefleet-yolov8-n'}\`) |
| data | \`scenes generate --domain day --count ${count} --seed ${SEED} --imgsz ${imgsz} --split 0.9,0.1,0\` |
| training | ${epochs} epochs from scratch, seed ${SEED}, device ${trainMetrics.train?.device ?? device} (${trainMetrics.train?.threads ?? '?'} threads), ${Math.round(trainMetrics.train?.elapsed_s ?? 0)} s |
| command | \`python3 -m edgefleet_trainer train --data day --imgsz ${imgsz} --epochs ${epochs} --batch 16 --seed ${SEED}\` |

## Metrics (COCO-style, \`control-plane eval\`, 300-image test sets, seeds 1001-1003)

| test set | mAP50 | mAP50-95 |
| --- | --- | --- |
| day | ${m('base-day')} | ${evals['base-day'].mAP50_95.toFixed(3)} |
| night | ${m('base-night')} | ${evals['base-night'].mAP50_95.toFixed(3)} |
| fog | ${m('base-fog')} | ${evals['base-fog'].mAP50_95.toFixed(3)} |

Drift: night loses ${(evals['base-day'].mAP50 - evals['base-night'].mAP50).toFixed(3)} mAP50 and fog
${(evals['base-day'].mAP50 - evals['base-fog'].mAP50).toFixed(3)} against day.

## Fine-tune on 300 labelled night images (${ftEpochs} epochs from best.pt, lr0 0.001 / lrf 0.01)

The fine-tune set is the 300 labelled night images (\`scenes generate --domain night --count 300 --seed 2001\`)
plus ${ftReplay} day images replayed from the base's own training set (no new labels), so the model learns
night without forgetting day; the night training images are seen ${ftNightRepeat}× per epoch. The fine-tuned model is not committed (\`npm run base-model\` rebuilds it in
\`.data/base-model/finetune-night/\`; \`./dev fleet\` runs it as a shadow candidate when it is there).

| test set | mAP50 after fine-tune |
| --- | --- |
| night | ${m('ft-night')} |
| day | ${m('ft-day')} |

## Targets (README) and what these figures do not show

Targets: day mAP50 ≥ 0.90; night and fog each lose ≥ 0.20 against day; after the fine-tune night ≥ 0.85 and
day ≥ 0.85. Met here: ${
  [
    evals['base-day'].mAP50 >= 0.9,
    evals['base-day'].mAP50 - evals['base-night'].mAP50 >= 0.2,
    evals['base-day'].mAP50 - evals['base-fog'].mAP50 >= 0.2,
    evals['ft-night'].mAP50 >= 0.85,
    evals['ft-day'].mAP50 >= 0.85,
  ].every(Boolean)
    ? 'all'
    : 'not all (see the tables)'
}.

Every figure is on scenes drawn by the same generator as the training data (other seeds): they show that
the detector, the drift and the fine-tune loop work, not how the model does on real cameras. It has never
seen a photograph; for real scenes, fine-tune it on labelled frames of your own cameras (the loop above) or
start from a detector trained on real data.
`;
writeFileSync(join(outDir, 'MODEL_CARD.md'), card);
writeFileSync(
  join(outDir, 'metrics.json'),
  `${JSON.stringify({ sha256: sha, evals: Object.fromEntries(Object.entries(evals).map(([k, v]) => [k, { mAP50: v.mAP50, mAP50_95: v.mAP50_95, perClass: v.perClass }])) }, null, 2)}\n`,
);
log(`wrote ${relative(root, outDir)}/edgefleet-base.onnx and MODEL_CARD.md`);
console.log(
  JSON.stringify({ sha256: sha, ...Object.fromEntries(Object.entries(evals).map(([k, v]) => [k, v.mAP50])) }),
);
