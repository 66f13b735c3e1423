"""Error catalogue: stable codes, their process exit codes and a one-line description.

CONTRACT.md documents every code; a test checks that it does.
"""
from __future__ import annotations

import re

EXIT_OK = 0
EXIT_OTHER = 1
EXIT_BAD_ARGS = 2
EXIT_BAD_DATASET = 3
EXIT_CHECKPOINT = 4
EXIT_INTERRUPTED = 5

# code -> (exit code, description)
CATALOGUE: dict[str, tuple[int, str]] = {
    "TRAINER_ERR_ARGS": (EXIT_BAD_ARGS, "invalid command-line arguments"),
    "TRAINER_ERR_DEVICE": (EXIT_BAD_ARGS, "the requested device is not available"),
    "TRAINER_ERR_DATA_YAML": (EXIT_BAD_DATASET, "data.yaml is missing, unreadable or lacks required keys"),
    "TRAINER_ERR_SPLIT_MISSING": (EXIT_BAD_DATASET, "the images directory or list of a split does not exist"),
    "TRAINER_ERR_EMPTY_SPLIT": (EXIT_BAD_DATASET, "a split contains no images"),
    "TRAINER_ERR_LABELS_DIR": (EXIT_BAD_DATASET, "the labels directory of a split does not exist"),
    "TRAINER_ERR_LABEL_FORMAT": (EXIT_BAD_DATASET, "a label line is malformed (expected 'cls cx cy w h', normalised)"),
    "TRAINER_ERR_LABEL_CLASS": (EXIT_BAD_DATASET, "a label's class id is out of range [0, nc)"),
    "TRAINER_ERR_IMAGE": (EXIT_BAD_DATASET, "an image cannot be read or decoded"),
    "TRAINER_ERR_CHECKPOINT": (EXIT_CHECKPOINT, "a checkpoint is missing, unreadable or incompatible"),
    "TRAINER_ERR_INTERRUPTED": (EXIT_INTERRUPTED, "interrupted by SIGTERM/SIGINT; last.pt holds the state"),
    "TRAINER_ERR_DIVERGED": (EXIT_OTHER, "training diverged (non-finite losses)"),
    "TRAINER_ERR_EXPORT": (EXIT_OTHER, "ONNX export or its verification failed"),
    "TRAINER_ERR_INTERNAL": (EXIT_OTHER, "unexpected internal error"),
}


class TrainerError(Exception):
    """An error with a stable code; the CLI turns it into an error event and an exit code."""

    def __init__(self, code: str, message: str | None = None, **details):
        if message is None:
            # Re-raised by a DataLoader worker, which passes only the formatted traceback text.
            m = re.search(r"TrainerError: (TRAINER_ERR_[A-Z_]+): (.*)", code)
            code, message = (m.group(1), m.group(2)) if m else ("TRAINER_ERR_INTERNAL", code)
        if code not in CATALOGUE:
            raise ValueError(f"unknown trainer error code {code}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details

    @property
    def exit_code(self) -> int:
        return CATALOGUE[self.code][0]
