import unittest

import torch

from edgefleet_trainer.loss import DetectionLoss, dfl_loss
from edgefleet_trainer.model import Detector, ModelConfig, count_parameters, num_anchors


class ModelTest(unittest.TestCase):
    def test_parameter_budget(self):
        for nc in (1, 3, 80):
            self.assertLessEqual(count_parameters(Detector(ModelConfig(nc=nc))), 3_000_000)

    def test_inference_output_contract(self):
        torch.manual_seed(0)
        m = Detector(ModelConfig(nc=3, scale="p")).eval()
        with torch.no_grad():
            y = m(torch.rand(2, 3, 320, 256))
        self.assertEqual(tuple(y.shape), (2, 7, num_anchors(320, 256)))
        self.assertTrue(bool(((y[:, 4:] >= 0) & (y[:, 4:] <= 1)).all()))
        self.assertTrue(bool((y[:, 2:4] > 0).all()))
        # Row order is stride 8 first: the first anchor's centre is near (4, 4).
        self.assertLess(abs(float(y[0, 0, 0]) - 4), 8 * 15)

    def test_training_output_levels(self):
        m = Detector(ModelConfig(nc=3, scale="p")).train()
        feats = m(torch.rand(1, 3, 128, 128))
        self.assertEqual([tuple(f.shape) for f in feats], [(1, 67, 16, 16), (1, 67, 8, 8), (1, 67, 4, 4)])


class LossTest(unittest.TestCase):
    def test_dfl_is_smallest_at_the_target(self):
        target = torch.tensor([[3.25, 0.0, 14.5, 7.0]])
        good = torch.full((1, 4, 16), -10.0)
        for i, t in enumerate(target[0].tolist()):
            lo = int(t)
            good[0, i, lo] = 10 * (1 - (t - lo))
            if lo + 1 < 16:
                good[0, i, lo + 1] = 10 * (t - lo)
        bad = torch.zeros((1, 4, 16))
        self.assertLess(float(dfl_loss(good, target).sum()), float(dfl_loss(bad, target).sum()))

    def test_background_batch_gives_finite_classification_loss_only(self):
        m = Detector(ModelConfig(nc=3, scale="p")).train()
        loss, parts = DetectionLoss(m)(m(torch.rand(2, 3, 64, 64)), torch.zeros((0, 6)))
        self.assertTrue(bool(torch.isfinite(loss)))
        self.assertEqual(float(parts[0]), 0.0)
        self.assertEqual(float(parts[2]), 0.0)
        self.assertGreater(float(parts[1]), 0.0)

    def test_a_few_steps_fit_one_batch(self):
        torch.manual_seed(0)
        m = Detector(ModelConfig(nc=2, scale="p")).train()
        m.head.init_bias(96)
        x = torch.rand(2, 3, 96, 96)
        t = torch.tensor([[0, 0, 10, 10, 50, 40], [0, 1, 60, 50, 90, 90], [1, 1, 20, 30, 70, 80]], dtype=torch.float32)
        fn = DetectionLoss(m)
        opt = torch.optim.AdamW(m.parameters(), lr=0.003)
        first = None
        for _ in range(25):
            loss, _ = fn(m(x), t)
            first = first if first is not None else float(loss)
            opt.zero_grad()
            loss.backward()
            opt.step()
        self.assertLess(float(loss), 0.7 * first)


if __name__ == "__main__":
    unittest.main()
