import tempfile
import unittest
from pathlib import Path


from edgefleet_trainer import onnx_proto
from edgefleet_trainer.checkpoint import load_checkpoint, save_checkpoint
from edgefleet_trainer.errors import TrainerError
from edgefleet_trainer.export_onnx import export_onnx
from edgefleet_trainer.model import Detector, ModelConfig


class ProtoTest(unittest.TestCase):
    def test_varint(self):
        self.assertEqual(onnx_proto.varint(1), b"\x01")
        self.assertEqual(onnx_proto.varint(300), b"\xac\x02")

    def test_metadata_round_trip_after_other_fields(self):
        head = onnx_proto.len_field(2, b"pytorch") + b"\x08\x07"  # producer_name, ir_version
        props = {"names": "{0: 'a'}", "long": "x" * 1000, "unicode": "café"}
        self.assertEqual(onnx_proto.read_metadata(head + onnx_proto.metadata_entries(props)), props)


class ArtifactTest(unittest.TestCase):
    def test_checkpoint_round_trip_and_corrupt_file(self):
        m = Detector(ModelConfig(nc=2, scale="p"))
        with tempfile.TemporaryDirectory() as d:
            p = Path(d, "x.pt")
            save_checkpoint(p, model_state=m.state_dict(), cfg=m.cfg, names=["a", "b"], imgsz=96, meta={"epoch": 3, "val": {"mAP50": 0.5}})
            ck = load_checkpoint(p)
            self.assertEqual(ck["cfg"], m.cfg)
            self.assertEqual(ck["meta"]["names"], ["a", "b"])
            self.assertEqual(ck["meta"]["val"]["mAP50"], 0.5)
            self.assertIsNone(ck["train"])
            Detector(ck["cfg"]).load_state_dict(ck["model"])
            p.write_bytes(p.read_bytes()[:1000])
            with self.assertRaises(TrainerError) as cm:
                load_checkpoint(p)
            self.assertEqual(cm.exception.code, "TRAINER_ERR_CHECKPOINT")

    def test_export_contract(self):
        m = Detector(ModelConfig(nc=2, scale="p"))
        with tempfile.TemporaryDirectory() as d:
            info = export_onnx(m, ["cat", "dog"], 96, Path(d, "m.onnx"), opset=13, extra_meta={"model_version": "7"})
            self.assertEqual(info["output_shape"], [1, 6, 12 * 12 + 6 * 6 + 3 * 3])
            self.assertEqual(info["opset"], 13)
            meta = onnx_proto.read_metadata(Path(d, "m.onnx").read_bytes())
            self.assertEqual(meta["names"], "{0: 'cat', 1: 'dog'}")
            self.assertEqual(meta["imgsz"], "[96, 96]")
            self.assertEqual(meta["model_version"], "7")
            with self.assertRaises(TrainerError):
                export_onnx(m, ["cat", "dog"], 96, Path(d, "m2.onnx"), opset=18)


if __name__ == "__main__":
    unittest.main()
