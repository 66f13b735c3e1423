"""The last step of a run: best weights to ONNX, test evaluation, metrics.json and the `done` event."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from . import __version__
from .checkpoint import load_checkpoint
from .dataset import YoloDataset
from .export_onnx import export_onnx
from .metrics import evaluate
from .model import Detector, num_anchors
from .prepare import make_loader
from .progress import Progress
from .run_checkpoint import save_run_checkpoint
from .run_state import RunState
from .train_options import TrainOptions


def export(o: TrainOptions, s: RunState, progress: Progress) -> dict:
    """Returns the metrics written to metrics.json."""
    u = s.setup
    if not u.best_path.exists():  # e.g. resumed after the last validation
        save_run_checkpoint(o, s, u.best_path, epoch=o.epochs, next_epoch=o.epochs, val=s.best.val, with_train=False)
    final = _best_model(s)
    # The finishing steps load data in-process: a signal now cannot break a loader, the run completes.
    test = _evaluate_test(o, s, final)
    if s.best.val is None:
        s.best.val = evaluate(final, make_loader(s.val_ds, o, u.device, shuffle=False, workers=0), u.device, u.names)
    onnx_path = u.out / "model.onnx"
    info = export_onnx(final, u.names, o.imgsz, onnx_path, o.opset, {**o.meta, "dataset": u.data.yaml_path.parent.name})
    progress.log(
        f"exported {onnx_path} ({info['bytes']:,} bytes, output {info['output_shape']}, opset {info['opset']})"
    )
    elapsed = time.time() - u.started
    metrics = _metrics(o, s, final, info, test, elapsed)
    metrics_path = _write_json(u.out / "metrics.json", metrics)
    progress.emit("done", best=str(u.best_path), last=str(u.last_path), onnx=str(onnx_path),
                  metrics_file=str(metrics_path), sha256=info["sha256"], metrics=_summary(s, test), elapsed_s=elapsed)
    return metrics


def _best_model(s: RunState) -> Detector:
    best = load_checkpoint(s.setup.best_path)
    final = Detector(s.setup.cfg)
    final.load_state_dict(best["model"])
    return final.to(s.setup.device).eval()


def _evaluate_test(o: TrainOptions, s: RunState, final: Detector) -> dict | None:
    u = s.setup
    if "test" not in u.splits:
        return None
    test_ds = YoloDataset(u.splits["test"], o.imgsz, False, o.aug, o.seed, False)
    return evaluate(final, make_loader(test_ds, o, u.device, shuffle=False, workers=0), u.device, u.names)


def _metrics(o: TrainOptions, s: RunState, final: Detector, info: dict, test: dict | None, elapsed: float) -> dict:
    u = s.setup
    return {
        "trainer": "edgefleet_trainer", "version": __version__,
        "dataset": {"yaml": str(u.data.yaml_path), "root": str(u.data.root), "nc": len(u.names), "names": u.names,
                    "images": {k: len(v) for k, v in u.splits.items()},
                    "instances": {k: v.instances for k, v in u.splits.items()}},
        "model": {"arch": f"edgefleet-yolov8-{u.scale}", "scale": u.scale, "params": s.params, "imgsz": o.imgsz,
                  "reg_max": u.cfg.reg_max, "strides": list(final.head.strides),
                  "anchors": num_anchors(o.imgsz, o.imgsz)},
        "train": {"mode": u.mode, "weights": o.weights or o.resume, "epochs": o.epochs,
                  "epochs_completed": len(s.history),
                  "best_epoch": s.best.epoch, "batch": o.batch, "seed": o.seed, "lr0": u.lr0, "lrf": u.lrf,
                  "schedule": o.schedule, "augment": asdict(o.aug), "device": str(u.device), "threads": u.threads,
                  "elapsed_s": elapsed, "history": s.history},
        "val": s.best.val,
        "test": test,
        "onnx": {k: info[k] for k in ("path", "sha256", "bytes", "opset", "input_shape", "output_shape")},
    }


def _summary(s: RunState, test: dict | None) -> dict:
    return {"val": {k: s.best.val[k] for k in ("mAP50", "mAP50_95")},
            "test": None if test is None else {k: test[k] for k in ("mAP50", "mAP50_95")},
            "best_epoch": s.best.epoch, "params": s.params}


def _write_json(path: Path, obj: dict) -> Path:
    """Atomically (temp file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path
