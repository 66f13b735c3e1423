"""EdgeFleet trainer: a compact YOLOv8-style detector, trained on YOLO-format datasets,
exported to ONNX with the Ultralytics output contract. See ../CONTRACT.md."""

__version__ = "0.1.0"
