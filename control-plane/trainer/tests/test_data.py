import tempfile
import unittest
from pathlib import Path

import numpy as np

from edgefleet_trainer import augment as A
from edgefleet_trainer.data_yaml import load_data_config, parse_minimal_yaml
from edgefleet_trainer.dataset import label_path_for, parse_label_file
from edgefleet_trainer.errors import TrainerError

SAMPLES = [
    "path: ../datasets/x  # root\ntrain: images/train\nval: images/val\ntest:\nnc: 3\nnames:\n  0: person\n  1: 'traffic light'\n  2: car\n",
    "train: [images/a, images/b]\nval: images/val\nnames: ['a', \"b, c\", d]\n",
    "train: images/train\nval: images/val\nnames:\n  - cat\n  - dog # comment\n",
    "train: images/train\nval: images/val\nnc: 2\nnames: {0: x, 1: y}\n",
]


class DataYamlTest(unittest.TestCase):
    def test_minimal_parser_agrees_with_pyyaml(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("PyYAML not installed")
        for s in SAMPLES:
            self.assertEqual(parse_minimal_yaml(s), yaml.safe_load(s), s)

    def test_names_and_paths(self):
        with tempfile.TemporaryDirectory() as d:
            Path(d, "data.yaml").write_text(SAMPLES[0])
            cfg = load_data_config(d)
            self.assertEqual(cfg.names, ["person", "traffic light", "car"])
            self.assertEqual(cfg.root, (Path(d) / "../datasets/x").resolve())
            self.assertEqual(set(cfg.splits), {"train", "val"})

    def test_nc_mismatch_is_an_error(self):
        with tempfile.TemporaryDirectory() as d:
            Path(d, "data.yaml").write_text("train: a\nval: b\nnc: 4\nnames: [a, b]\n")
            with self.assertRaises(TrainerError) as cm:
                load_data_config(d)
            self.assertEqual(cm.exception.code, "TRAINER_ERR_DATA_YAML")


class LabelTest(unittest.TestCase):
    def test_label_path_replaces_the_last_images_dir(self):
        self.assertEqual(label_path_for(Path("/d/images/x/images/train/a.png")), Path("/d/images/x/labels/train/a.txt"))
        self.assertEqual(label_path_for(Path("/d/flat/a.jpg")), Path("/d/flat/a.txt"))

    def test_parse(self):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d, "a.txt")
            p.write_text("1 0.5 0.5 0.2 0.4\n\n0 0.1 0.1 0.05 0.05\n")
            np.testing.assert_allclose(parse_label_file(p, 2), [[1, 0.5, 0.5, 0.2, 0.4], [0, 0.1, 0.1, 0.05, 0.05]])
            for bad, code in (("2 0.5 0.5 0.1 0.1", "TRAINER_ERR_LABEL_CLASS"), ("-1 0.5 0.5 0.1 0.1", "TRAINER_ERR_LABEL_CLASS"),
                              ("0.5 0.5 0.5 0.1 0.1", "TRAINER_ERR_LABEL_FORMAT"), ("0 a 0.5 0.1 0.1", "TRAINER_ERR_LABEL_FORMAT"),
                              ("0 0.5 0.5 0 0.1", "TRAINER_ERR_LABEL_FORMAT"), ("0 0.5 0.5 0.1 0.1 0.3 0.3", "TRAINER_ERR_LABEL_FORMAT")):
                p.write_text(bad + "\n")
                with self.assertRaises(TrainerError) as cm:
                    parse_label_file(p, 2)
                self.assertEqual(cm.exception.code, code, bad)


class AugmentTest(unittest.TestCase):
    def test_letterbox_centres_and_pads_114(self):
        img = np.zeros((100, 200, 3), np.uint8)
        out, r, (left, top) = A.letterbox(img, 320)
        self.assertEqual(out.shape, (320, 320, 3))
        self.assertEqual((r, left, top), (1.6, 0, 80))
        self.assertEqual(int(out[0, 0, 0]), 114)
        self.assertEqual(int(out[160, 160, 0]), 0)

    def test_random_place_keeps_boxes_on_their_pixels(self):
        rng = np.random.default_rng(0)
        cfg = A.AugmentConfig(scale=0.5, translate=0.2)
        for _ in range(20):
            img = np.zeros((128, 128, 3), np.uint8)
            img[40:80, 20:60] = 255
            boxes = np.array([[20, 40, 60, 80]], np.float32)
            out, b, c = A.random_place(img, boxes, np.array([1.0], np.float32), 128, cfg, rng)
            self.assertEqual(out.shape, (128, 128, 3))
            if len(b):
                x1, y1, x2, y2 = np.round(b[0]).astype(int)
                self.assertGreater(out[y1 + 1 : y2 - 1, x1 + 1 : x2 - 1].mean(), 200)
                self.assertTrue(((b >= 0) & (b <= 128)).all())
            flipped, fb = A.flip_lr(out, b)
            if len(fb):
                x1, y1, x2, y2 = np.round(fb[0]).astype(int)
                self.assertGreater(flipped[y1 + 1 : y2 - 1, x1 + 1 : x2 - 1].mean(), 200)

    def test_mosaic_keeps_every_visible_box(self):
        rng = np.random.default_rng(1)
        loads = []
        for k in range(4):
            img = np.zeros((64, 64, 3), np.uint8)
            img[16:48, 16:48] = 255
            loads.append((img, np.array([[16, 16, 48, 48]], np.float32), np.array([k], np.float32)))
        out, boxes, cls = A.mosaic4(loads, 64, rng)
        self.assertEqual(out.shape, (128, 128, 3))
        self.assertEqual(sorted(cls.tolist()), [0, 1, 2, 3])
        for x1, y1, x2, y2 in np.round(boxes).astype(int):
            self.assertGreater(out[y1:y2, x1:x2].mean(), 200)

    def test_hsv_jitter_keeps_shape_and_changes_colour(self):
        rng = np.random.default_rng(2)
        img = np.full((8, 8, 3), (200, 50, 50), np.uint8)
        out = A.hsv_jitter(img, A.AugmentConfig(hsv_h=0.5, hsv_s=0.7, hsv_v=0.4), rng)
        self.assertEqual(out.shape, img.shape)
        self.assertFalse(np.array_equal(out, img))


if __name__ == "__main__":
    unittest.main()
