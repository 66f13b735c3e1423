import unittest

from edgefleet_trainer.errors import CATALOGUE, TrainerError


class ErrorsTest(unittest.TestCase):
    def test_exit_codes(self):
        self.assertEqual(TrainerError("TRAINER_ERR_LABELS_DIR", "x").exit_code, 3)
        self.assertEqual(TrainerError("TRAINER_ERR_INTERRUPTED", "x").exit_code, 5)
        self.assertTrue(all(code in (1, 2, 3, 4, 5) for code, _ in CATALOGUE.values()))

    def test_unknown_code_is_a_bug(self):
        with self.assertRaises(ValueError):
            TrainerError("TRAINER_ERR_NOPE", "x")

    def test_rebuilt_from_a_loader_worker_traceback(self):
        # torch's DataLoader re-raises a worker's exception as exc_type(formatted_traceback).
        text = ("Caught TrainerError in DataLoader worker process 0.\nOriginal Traceback (most recent call last):\n"
                "  File \"x.py\", line 1, in f\nedgefleet_trainer.errors.TrainerError: TRAINER_ERR_IMAGE: /d/a.jpg: cannot decode image: truncated")
        e = TrainerError(text)
        self.assertEqual(e.code, "TRAINER_ERR_IMAGE")
        self.assertEqual(e.message, "/d/a.jpg: cannot decode image: truncated")
        self.assertEqual(TrainerError("something else").code, "TRAINER_ERR_INTERNAL")


if __name__ == "__main__":
    unittest.main()
