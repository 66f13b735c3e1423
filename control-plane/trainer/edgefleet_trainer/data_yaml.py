"""data.yaml (Ultralytics layout) reading and validation.

Uses PyYAML when importable; otherwise a minimal parser that understands what
data.yaml files contain: top-level scalars, inline lists, and one level of block
lists or integer-keyed mappings (for `names`).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TrainerError

SPLITS = ("train", "val", "test")


@dataclass
class DataConfig:
    yaml_path: Path
    root: Path
    names: list[str]
    splits: dict[str, list[Path]] = field(default_factory=dict)  # split -> image dirs or list files

    @property
    def nc(self) -> int:
        return len(self.names)


def _scalar(text: str):
    t = text.strip()
    if t == "" or t in ("~", "null", "Null", "NULL"):
        return None
    if t[0] in "'\"":
        try:
            return ast.literal_eval(t)
        except (ValueError, SyntaxError):
            return t.strip("'\"")
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1].strip()
        return [] if not inner else [_scalar(x) for x in _split_commas(inner)]
    if t.startswith("{") and t.endswith("}"):
        inner = t[1:-1].strip()
        out = {}
        for item in _split_commas(inner) if inner else []:
            k, _, v = item.partition(":")
            out[_scalar(k)] = _scalar(v)
        return out
    if t in ("true", "True"):
        return True
    if t in ("false", "False"):
        return False
    for conv in (int, float):
        try:
            return conv(t)
        except ValueError:
            pass
    return t


def _split_commas(s: str) -> list[str]:
    parts, cur, quote = [], "", None
    for ch in s:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            cur += ch
        elif ch == ",":
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def parse_minimal_yaml(text: str) -> dict:
    data: dict = {}
    current: str | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).rstrip()
        if not line.strip() or line.strip() == "---":
            continue
        indented = line[0] in " \t"
        body = line.strip()
        if not indented:
            key, sep, value = body.partition(":")
            if not sep:
                raise ValueError(f"line {lineno}: expected 'key: value'")
            current = key.strip()
            data[current] = _scalar(value) if value.strip() else None
            continue
        if current is None:
            raise ValueError(f"line {lineno}: indented line without a parent key")
        if body.startswith("- ") or body == "-":
            if data[current] is None:
                data[current] = []
            if not isinstance(data[current], list):
                raise ValueError(f"line {lineno}: list item under a non-list key {current!r}")
            data[current].append(_scalar(body[1:]))
        else:
            key, sep, value = body.partition(":")
            if not sep:
                raise ValueError(f"line {lineno}: expected 'key: value'")
            if data[current] is None:
                data[current] = {}
            if not isinstance(data[current], dict):
                raise ValueError(f"line {lineno}: mapping entry under a non-mapping key {current!r}")
            data[current][_scalar(key)] = _scalar(value)
    return data


def _parse(text: str) -> dict:
    try:
        import yaml  # type: ignore
    except ImportError:
        return parse_minimal_yaml(text)
    return yaml.safe_load(text)


def _names(data: dict, where: Path) -> list[str]:
    names = data.get("names")
    nc = data.get("nc")
    if names is None:
        if isinstance(nc, int) and nc > 0:
            return [f"class{i}" for i in range(nc)]
        raise TrainerError("TRAINER_ERR_DATA_YAML", f"{where}: 'names' (or 'nc') is required")
    if isinstance(names, dict):
        try:
            keys = sorted(int(k) for k in names)
        except (TypeError, ValueError):
            raise TrainerError("TRAINER_ERR_DATA_YAML", f"{where}: 'names' keys must be integers") from None
        if keys != list(range(len(keys))):
            raise TrainerError("TRAINER_ERR_DATA_YAML", f"{where}: 'names' keys must be 0..{len(keys) - 1} without gaps")
        lookup = {int(k): v for k, v in names.items()}
        out = [str(lookup[i]) for i in keys]
    elif isinstance(names, list):
        out = [str(n) for n in names]
    else:
        raise TrainerError("TRAINER_ERR_DATA_YAML", f"{where}: 'names' must be a list or a mapping")
    if not out:
        raise TrainerError("TRAINER_ERR_DATA_YAML", f"{where}: 'names' is empty")
    if nc is not None and nc != len(out):
        raise TrainerError("TRAINER_ERR_DATA_YAML", f"{where}: nc={nc} but {len(out)} names are given")
    return out


def load_data_config(data: str | Path) -> DataConfig:
    """Read a dataset's data.yaml (given the file or the directory that holds it)."""
    p = Path(data)
    yaml_path = p / "data.yaml" if p.is_dir() else p
    if not yaml_path.is_file():
        raise TrainerError("TRAINER_ERR_DATA_YAML", f"data.yaml not found at {yaml_path}")
    try:
        parsed = _parse(yaml_path.read_text(encoding="utf-8"))
    except Exception as e:  # any parser error means the file is unusable
        raise TrainerError("TRAINER_ERR_DATA_YAML", f"{yaml_path}: cannot parse: {e}") from e
    if not isinstance(parsed, dict):
        raise TrainerError("TRAINER_ERR_DATA_YAML", f"{yaml_path}: expected a mapping at the top level")
    root = parsed.get("path")
    root_path = yaml_path.parent.resolve() if root in (None, "") else Path(str(root))
    if not root_path.is_absolute():
        root_path = (yaml_path.parent / root_path).resolve()
    names = _names(parsed, yaml_path)
    splits: dict[str, list[Path]] = {}
    for split in SPLITS:
        v = parsed.get(split)
        if v in (None, ""):
            continue
        entries = v if isinstance(v, list) else [v]
        splits[split] = [(root_path / str(e)) if not Path(str(e)).is_absolute() else Path(str(e)) for e in entries]
    for required in ("train", "val"):
        if required not in splits:
            raise TrainerError("TRAINER_ERR_DATA_YAML", f"{yaml_path}: '{required}' is required")
    return DataConfig(yaml_path=yaml_path.resolve(), root=root_path, names=names, splits=splits)
