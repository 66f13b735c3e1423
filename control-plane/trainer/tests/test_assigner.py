import unittest

import torch

from edgefleet_trainer.assigner import TaskAlignedAssigner
from edgefleet_trainer.model import make_anchors


def grid(size=64, stride=8):
    pts, st = make_anchors([(size // stride, size // stride)], [stride], "cpu", torch.float32)
    return pts * st, st


class AssignerTest(unittest.TestCase):
    def setUp(self):
        self.anchors, _ = grid()
        self.n = len(self.anchors)

    def _predict_gt_boxes(self, gt_boxes):
        # Every anchor predicts the box it sits in (or a far-away box), class 0 at 0.5.
        scores = torch.full((1, self.n, 2), 0.5)
        boxes = torch.tensor([[-50.0, -50.0, -40.0, -40.0]]).repeat(self.n, 1)
        for b in gt_boxes:
            inside = (self.anchors[:, 0] > b[0]) & (self.anchors[:, 0] < b[2]) & (self.anchors[:, 1] > b[1]) & (self.anchors[:, 1] < b[3])
            boxes[inside] = torch.tensor(b)
        return scores, boxes.unsqueeze(0)

    def test_positives_lie_inside_the_box_and_are_at_most_topk(self):
        gtb = [8.0, 8.0, 40.0, 40.0]  # 16 anchor centres inside
        scores, boxes = self._predict_gt_boxes([gtb])
        a = TaskAlignedAssigner(nc=2, topk=10)
        labels, tboxes, tscores, fg = a(scores, boxes, self.anchors, torch.tensor([[[1.0]]]), torch.tensor([[gtb]]), torch.ones(1, 1, 1))
        self.assertEqual(int(fg.sum()), 10)
        pos = self.anchors[fg[0]]
        self.assertTrue(bool(((pos > 8) & (pos < 40)).all()))
        self.assertTrue(bool((labels[fg] == 1).all()))
        self.assertTrue(torch.allclose(tboxes[fg], torch.tensor(gtb)))
        # Soft targets: only the box's class, best anchor normalised to its IoU (1 here).
        self.assertAlmostEqual(float(tscores[0][fg[0]][:, 1].max()), 1.0, places=4)
        self.assertEqual(float(tscores[..., 0].abs().sum()), 0.0)
        self.assertEqual(float(tscores[0][~fg[0]].abs().sum()), 0.0)

    def test_padding_boxes_assign_nothing(self):
        scores, boxes = self._predict_gt_boxes([])
        a = TaskAlignedAssigner(nc=2)
        _, _, tscores, fg = a(scores, boxes, self.anchors, torch.zeros(1, 2, 1), torch.tensor([[[8.0, 8, 40, 40], [0, 0, 0, 0]]]), torch.zeros(1, 2, 1))
        self.assertFalse(bool(fg.any()))
        self.assertEqual(float(tscores.sum()), 0.0)

    def test_an_anchor_claimed_twice_goes_to_the_box_it_overlaps_most(self):
        big, small = [0.0, 0.0, 64.0, 64.0], [16.0, 16.0, 32.0, 32.0]
        scores, boxes = self._predict_gt_boxes([big])
        _, boxes_small = self._predict_gt_boxes([small])
        inside_small = (boxes_small[0] == torch.tensor(small)).all(1)
        boxes[0, inside_small] = torch.tensor(small)
        a = TaskAlignedAssigner(nc=2, topk=13)
        _, tboxes, _, fg = a(scores, boxes, self.anchors, torch.zeros(1, 2, 1), torch.tensor([[big, small]]), torch.ones(1, 2, 1))
        for i in torch.nonzero(inside_small).flatten():
            if fg[0, i]:
                self.assertEqual(tboxes[0, i].tolist(), small)

    def test_no_ground_truth(self):
        scores, boxes = self._predict_gt_boxes([])
        a = TaskAlignedAssigner(nc=2)
        _, _, tscores, fg = a(scores, boxes, self.anchors, torch.zeros(1, 0, 1), torch.zeros(1, 0, 4), torch.zeros(1, 0, 1))
        self.assertEqual(tuple(tscores.shape), (1, self.n, 2))
        self.assertFalse(bool(fg.any()))


if __name__ == "__main__":
    unittest.main()
