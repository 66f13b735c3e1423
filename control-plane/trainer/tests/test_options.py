"""TrainOptions is the one source of train's flags, defaults, help and limits."""
import unittest
from dataclasses import fields

from edgefleet_trainer.augment import AugmentConfig
from edgefleet_trainer.cli import _imgsz, build_parser
from edgefleet_trainer.errors import TrainerError
from edgefleet_trainer.limits import AtLeast, Interval, MultipleOf, OneOf
from edgefleet_trainer.option_flags import flag_fields, flag_name, from_flags
from edgefleet_trainer.train_options import FINETUNE, SCRATCH, TrainOptions, validate_options


def parse(*argv: str):
    return build_parser().parse_args(list(argv))


def train_options(*argv: str) -> TrainOptions:
    return from_flags(TrainOptions, parse("train", "--data", "d", "--out", "o", *argv))


def problems(**changes) -> list[str]:
    """The problems validate_options reports for these changes (augmentation fields included)."""
    aug_names = {f.name for f in fields(AugmentConfig)}
    aug = AugmentConfig(**{k: v for k, v in changes.items() if k in aug_names})
    top = {k: v for k, v in changes.items() if k not in aug_names}
    try:
        validate_options(TrainOptions(data="d", out="o", aug=aug, **top))
    except TrainerError as e:
        assert e.code == "TRAINER_ERR_ARGS"
        return e.details["problems"]
    return []


class FlagsFromFieldsTest(unittest.TestCase):
    def test_flag_defaults_are_the_dataclass_defaults(self):
        self.assertEqual(train_options(), TrainOptions(data="d", out="o"))

    def test_every_field_is_a_train_flag_with_its_help(self):
        help_text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
        for f, _ in flag_fields(TrainOptions):
            self.assertIn(flag_name(f.name), help_text)
        self.assertIn("no mosaic in the last N epochs", help_text)
        self.assertIn("random zoom range: 1 +/- scale", help_text)

    def test_every_flag_reaches_its_field(self):
        o = train_options(
            "--weights", "w.pt", "--epochs", "3", "--batch", "4", "--imgsz", "64", "--device", "cpu", "--seed", "7",
            "--workers", "2", "--threads", "1", "--model", "p", "--lr0", "0.01", "--lrf", "0.2",
            "--schedule", "linear", "--warmup-epochs", "0.5", "--weight-decay", "0.001", "--hsv-h", "0.1",
            "--hsv-s", "0.2", "--hsv-v", "0.3", "--fliplr", "0", "--scale", "0.25", "--translate", "0.05",
            "--mosaic", "1", "--close-mosaic", "2", "--cache", "--log-every", "5", "--val-every", "2",
            "--patience", "4", "--opset", "13", "--meta", "model_version=12", "--meta", "note=a=b",
        )
        self.assertEqual(o, TrainOptions(
            data="d", out="o", weights="w.pt", epochs=3, batch=4, imgsz=64, device="cpu", seed=7, workers=2, threads=1,
            model="p", lr0=0.01, lrf=0.2, schedule="linear", warmup_epochs=0.5, weight_decay=0.001,
            aug=AugmentConfig(hsv_h=0.1, hsv_s=0.2, hsv_v=0.3, fliplr=0.0, scale=0.25, translate=0.05, mosaic=1.0),
            close_mosaic=2, cache=True, log_every=5, val_every=2, patience=4, opset=13,
            meta={"model_version": "12", "note": "a=b"},
        ))

    def test_required_and_choices_come_from_the_fields(self):
        base = ["train", "--data", "d", "--out", "o"]
        for argv in (base[:3], [*base, "--schedule", "step"], [*base, "--model", "x"], [*base, "--meta", "k"]):
            with self.assertRaises(TrainerError, msg=argv) as cm:
                parse(*argv)
            self.assertEqual(cm.exception.code, "TRAINER_ERR_ARGS")

    def test_val_and_export_share_train_defaults(self):
        defaults = TrainOptions(data="d", out="o")
        val = parse("val", "--weights", "w", "--data", "d")
        self.assertEqual((val.batch, val.device, val.threads), (defaults.batch, defaults.device, defaults.threads))
        export = parse("export", "--weights", "w", "--out", "m.onnx")
        self.assertEqual((export.opset, export.meta), (defaults.opset, []))

    def test_mode_defaults_are_the_ones_the_help_states(self):
        help_text = " ".join(build_parser()._subparsers._group_actions[0].choices["train"].format_help().split())
        self.assertIn(f"default {SCRATCH.lr0:g}, fine-tune {FINETUNE.lr0:g}", help_text)
        self.assertIn(f"default {SCRATCH.lrf:g}, fine-tune {FINETUNE.lrf:g}", help_text)
        self.assertIn(f"default {SCRATCH.warmup_epochs:g}, fine-tune {FINETUNE.warmup_epochs:g}", help_text)


class LimitsTest(unittest.TestCase):
    def test_limit_messages(self):
        self.assertEqual(AtLeast(1).problem("--epochs", 0), "--epochs must be >= 1, got 0")
        self.assertIsNone(AtLeast(1).problem("--epochs", 1))
        self.assertEqual(Interval(0, 1, low_open=True).problem("--lr0", 0), "--lr0 must be in (0, 1], got 0")
        self.assertIsNone(Interval(0, 1, low_open=True).problem("--lr0", 1))
        self.assertEqual(Interval(0, 1, high_open=True).problem("--scale", 1), "--scale must be in [0, 1), got 1")
        self.assertEqual(MultipleOf(32, Interval(64, 1280)).problem("--imgsz", 1312),
                         "--imgsz must be a multiple of 32 in [64, 1280], got 1312")
        self.assertIsNone(MultipleOf(32, Interval(64, 1280)).problem("--imgsz", 64))
        self.assertEqual(OneOf(("a", "b")).problem("--x", "c"), "--x must be a or b, got c")

    def test_defaults_are_valid(self):
        self.assertEqual(problems(), [])

    def test_every_problem_is_listed_at_once(self):
        found = problems(imgsz=100, epochs=0, batch=0, lr0=3.0, lrf=0.0, schedule="step", fliplr=2.0, mosaic=-1.0,
                         scale=1.0, opset=18, log_every=0, val_every=0, weights="a", resume="b")
        self.assertEqual(found, [
            "--epochs must be >= 1, got 0",
            "--batch must be >= 1, got 0",
            "--imgsz must be a multiple of 32 in [64, 1280], got 100",
            "--lr0 must be in (0, 1], got 3.0",
            "--lrf must be in (0, 1], got 0.0",
            "--schedule must be cosine or linear, got step",
            "--fliplr must be in [0, 1], got 2.0",
            "--scale must be in [0, 1), got 1.0",
            "--mosaic must be in [0, 1], got -1.0",
            "--log-every must be >= 1, got 0",
            "--val-every must be >= 1, got 0",
            "--opset must be in [12, 17], got 18",
            "--weights and --resume are exclusive",
        ])

    def test_unset_optional_values_are_not_checked(self):
        self.assertEqual(problems(lr0=None, lrf=None, model=None), [])

    def test_val_and_export_check_imgsz_with_the_train_limit(self):
        self.assertEqual(_imgsz(parse("val", "--weights", "w", "--data", "d", "--imgsz", "96"), {}), 96)
        with self.assertRaises(TrainerError) as cm:
            _imgsz(parse("export", "--weights", "w", "--out", "o"), {"meta": {"imgsz": 100}})
        self.assertEqual(cm.exception.message, "--imgsz must be a multiple of 32 in [64, 1280], got 100")


if __name__ == "__main__":
    unittest.main()
