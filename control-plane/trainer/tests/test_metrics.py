import unittest

import numpy as np
import torch

from edgefleet_trainer.metrics import MapAccumulator, average_precision, nms


def det(rows):
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 6)


def gt(rows):
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 5)


class MapTest(unittest.TestCase):
    def test_perfect_predictions_score_one(self):
        acc = MapAccumulator(2)
        acc.add(det([[10, 10, 50, 50, 0.9, 0], [60, 60, 90, 100, 0.8, 1]]), gt([[0, 10, 10, 50, 50], [1, 60, 60, 90, 100]]))
        m = acc.compute(["a", "b"])
        self.assertAlmostEqual(m["mAP50"], 1.0)
        self.assertAlmostEqual(m["mAP50_95"], 1.0)
        self.assertEqual([c["instances"] for c in m["per_class"]], [1, 1])

    def test_wrong_class_scores_zero(self):
        acc = MapAccumulator(2)
        acc.add(det([[10, 10, 50, 50, 0.9, 1]]), gt([[0, 10, 10, 50, 50]]))
        self.assertEqual(acc.compute(["a", "b"])["mAP50"], 0.0)

    def test_missed_object_halves_recall(self):
        acc = MapAccumulator(1)
        acc.add(det([[10, 10, 50, 50, 0.9, 0]]), gt([[0, 10, 10, 50, 50], [0, 100, 100, 140, 140]]))
        m = acc.compute(["a"])
        self.assertAlmostEqual(m["mAP50"], 51 / 101)  # precision 1 up to recall 0.5

    def test_loose_box_counts_at_iou50_not_at_iou95(self):
        acc = MapAccumulator(1)
        acc.add(det([[10, 10, 50, 58, 0.9, 0]]), gt([[0, 10, 10, 50, 50]]))  # IoU 0.833
        m = acc.compute(["a"])
        self.assertAlmostEqual(m["mAP50"], 1.0)
        self.assertAlmostEqual(m["mAP50_95"], 0.7)  # matched at 0.50..0.80

    def test_duplicate_detection_is_a_false_positive(self):
        acc = MapAccumulator(1)
        acc.add(det([[10, 10, 50, 50, 0.9, 0], [11, 11, 50, 50, 0.8, 0]]), gt([[0, 10, 10, 50, 50]]))
        self.assertAlmostEqual(acc.compute(["a"])["mAP50"], 1.0)  # the FP comes after full recall
        acc = MapAccumulator(1)
        acc.add(det([[11, 11, 50, 50, 0.95, 0], [200, 200, 220, 220, 0.9, 0], [10, 10, 50, 50, 0.5, 0]]), gt([[0, 10, 10, 50, 50]]))
        self.assertAlmostEqual(acc.compute(["a"])["mAP50"], 1.0)

    def test_classes_without_objects_do_not_count(self):
        acc = MapAccumulator(3)
        acc.add(det([[10, 10, 50, 50, 0.9, 0]]), gt([[0, 10, 10, 50, 50]]))
        self.assertAlmostEqual(acc.compute(["a", "b", "c"])["mAP50"], 1.0)

    def test_average_precision_envelope(self):
        self.assertAlmostEqual(average_precision(np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 0.6])), (51 + 50 * 0.6) / 101)
        self.assertEqual(average_precision(np.array([]), np.array([])), 0.0)


class NmsTest(unittest.TestCase):
    def test_suppresses_overlaps_per_class(self):
        # [1, 4+2, 3]: two overlapping boxes of class 0, one of class 1 at the same place
        p = torch.tensor([[[30, 31, 30], [30, 30, 30], [20, 20, 20], [20, 20, 20], [0.9, 0.8, 0.0], [0.0, 0.0, 0.7]]])
        out = nms(p, conf=0.1, iou=0.5)[0]
        self.assertEqual(out.shape, (2, 6))
        self.assertEqual(out[:, 5].tolist(), [0.0, 1.0])
        self.assertEqual(out[0, :4].tolist(), [20.0, 20.0, 40.0, 40.0])


if __name__ == "__main__":
    unittest.main()
