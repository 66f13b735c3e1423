"""The training run's steps over a RunState, on a tiny generated dataset (scale p, 64 px)."""
import io
import json
import signal
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import torch

from edgefleet_trainer.checkpoint import load_checkpoint
from edgefleet_trainer.errors import TrainerError
from edgefleet_trainer.prepare import prepare
from edgefleet_trainer.progress import Progress
from edgefleet_trainer.run_state import Best, LossMeter
from edgefleet_trainer.stop_flag import StopFlag
from edgefleet_trainer.train import Trainer
from edgefleet_trainer.train_options import FINETUNE, SCRATCH, TrainOptions

ROOT = Path(__file__).resolve().parent.parent
_tmp = tempfile.TemporaryDirectory()
DATASET = Path(_tmp.name, "shapes")


def setUpModule() -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "fixtures" / "make_shapes.py"), str(DATASET), "--train", "4", "--val", "2",
         "--test", "2", "--size", "64"],
        check=True, capture_output=True,
    )


def tearDownModule() -> None:
    _tmp.cleanup()


class Recorder(Progress):
    def __init__(self) -> None:
        super().__init__(io.StringIO(), io.StringIO())

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self._events.getvalue().splitlines()]

    def names(self) -> list[str]:
        return [e["event"] for e in self.events()]


class StepsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.out = tempfile.TemporaryDirectory()
        self.addCleanup(self.out.cleanup)
        self.progress = Recorder()

    def options(self, **changes) -> TrainOptions:
        base = dict(data=str(DATASET), out=self.out.name, epochs=2, batch=2, imgsz=64, model="p", device="cpu",
                    threads=1, workers=0, log_every=1)
        return TrainOptions(**{**base, **changes})

    def trainer(self, **changes) -> Trainer:
        return Trainer(self.options(**changes), self.progress, StopFlag())

    def test_prepare_builds_the_run_state_and_announces_the_start(self):
        s = prepare(self.options(), self.progress)
        self.assertEqual((s.setup.mode, s.setup.lr0, s.setup.lrf), ("scratch", SCRATCH.lr0, SCRATCH.lrf))
        self.assertEqual((s.start_epoch, s.iters, s.it_global), (0, 2, 0))
        self.assertEqual(s.setup.names, ["box", "disc", "ring"])
        self.assertEqual(self.progress.names(), ["start"])
        self.assertEqual(self.progress.events()[0]["model"]["params"], s.params)

    def test_train_epoch_steps_every_batch_and_reports_each_iteration(self):
        t = self.trainer()
        s = prepare(t.o, self.progress)
        meter = t.train_epoch(s, 0)
        self.assertEqual((meter.seen, s.it_global, s.ema.updates), (2, 2, 2))
        iters = [e for e in self.progress.events() if e["event"] == "iter"]
        self.assertEqual([e["iter"] for e in iters], [1, 2])
        self.assertTrue(all(set(e["loss"]) == {"box", "cls", "dfl"} for e in iters))

    def test_evaluate_follows_val_every_and_keeps_the_best(self):
        t = self.trainer(epochs=3, val_every=2)
        s = prepare(t.o, self.progress)
        self.assertEqual(t.evaluate(s, 0), (None, False))
        val, improved = t.evaluate(s, 1)
        self.assertTrue(improved)
        self.assertEqual((s.best.epoch, s.best.val), (2, val))
        self.assertIsNotNone(t.evaluate(s, 2)[0], "the last epoch is always validated")

    def test_checkpoint_writes_last_always_and_best_only_when_improved(self):
        t = self.trainer()
        s = prepare(t.o, self.progress)
        t.checkpoint(s, 1, None, False)
        self.assertFalse(s.setup.best_path.exists())
        last = load_checkpoint(s.setup.last_path)
        self.assertEqual((last["meta"]["epoch"], last["train"]["meta"]["next_epoch"]), (1, 1))
        t.checkpoint(s, 2, {"mAP50": 0.5}, True)
        best = load_checkpoint(s.setup.best_path)
        self.assertEqual((best["meta"]["epoch"], best["meta"]["val"], best["train"]), (2, {"mAP50": 0.5}, None))

    def test_run_reports_every_step_and_writes_the_outputs_then_resume_only_exports(self):
        metrics = self.trainer(patience=0).run()
        names = self.progress.names()
        self.assertEqual(names, ["start", "iter", "iter", "epoch", "iter", "iter", "epoch", "done"])
        for f in ("best.pt", "last.pt", "model.onnx", "metrics.json"):
            self.assertGreater(Path(self.out.name, f).stat().st_size, 0, f)
        self.assertEqual(json.loads(Path(self.out.name, "metrics.json").read_text()), json.loads(json.dumps(metrics)))
        self.assertEqual(metrics["train"]["epochs_completed"], 2)
        self.assertEqual(metrics["dataset"]["images"], {"train": 4, "val": 2, "test": 2})

        self.progress = Recorder()
        resumed = self.trainer(resume=str(Path(self.out.name, "last.pt"))).run()
        start = self.progress.events()[0]
        self.assertEqual((start["mode"], start["start_epoch"], start["lr0"]), ("resume", 2, FINETUNE.lr0))
        self.assertEqual(self.progress.names(), ["start", "done"])
        self.assertEqual(resumed["train"]["history"], metrics["train"]["history"])

    def test_a_stop_before_the_first_epoch_saves_last_and_raises_interrupted(self):
        stop = StopFlag()
        stop.signal = signal.SIGTERM
        with self.assertRaises(TrainerError) as cm:
            Trainer(self.options(), self.progress, stop).run()
        e = cm.exception
        self.assertEqual((e.code, e.exit_code), ("TRAINER_ERR_INTERRUPTED", 5))
        self.assertIn("stopped by SIGTERM before epoch 1", e.message)
        self.assertEqual(load_checkpoint(Path(self.out.name, "last.pt"))["train"]["meta"]["next_epoch"], 0)
        self.assertFalse(Path(self.out.name, "model.onnx").exists())


class RunStateTest(unittest.TestCase):
    def test_best_keeps_only_a_strictly_better_fitness(self):
        best = Best()
        self.assertTrue(best.offer(0.0, 1, {"e": 1}))
        self.assertFalse(best.offer(0.0, 2, {"e": 2}))
        self.assertTrue(best.offer(0.5, 3, {"e": 3}))
        self.assertEqual((best.fitness, best.epoch, best.val), (0.5, 3, {"e": 3}))

    def test_loss_meter_averages_the_parts_it_saw(self):
        meter = LossMeter()
        self.assertEqual(meter.loss(), {"box": 0.0, "cls": 0.0, "dfl": 0.0})
        meter.add(torch.tensor([1.0, 2.0, 3.0]))
        meter.add(torch.tensor([3.0, 4.0, 5.0]))
        self.assertEqual(meter.loss(), {"box": 2.0, "cls": 3.0, "dfl": 4.0})
        meter.window_images = 10
        self.assertGreater(meter.images_per_s(), 0)
        self.assertEqual(meter.window_images, 0)


if __name__ == "__main__":
    unittest.main()
