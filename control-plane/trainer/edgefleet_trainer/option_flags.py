"""Options dataclasses as the one source of command-line flags, defaults, help and limits.

A field declared with `option(...)` becomes the flag `--field-name`: its default is the
field's default, its type the field's annotation, its help and limit come from the metadata.
A field whose type is itself an options dataclass contributes that class's flags in place.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import MISSING, Field, dataclass, field, fields, is_dataclass
from typing import Any, get_args, get_type_hints

from .limits import Limit, OneOf

_KEY = "edgefleet_flag"


@dataclass(frozen=True)
class Flag:
    help: str | None = None
    limit: Limit | None = None
    parse: Callable[[str], Any] | None = None  # argparse `type` when the annotation is not enough
    repeatable: bool = False  # given several times; the values are gathered with `collect`
    collect: Callable[[list[Any]], Any] | None = None


def option(default: Any = MISSING, *, default_factory: Any = MISSING, **flag: Any) -> Any:
    """A dataclass field that is also a command-line flag (no default: a required flag)."""
    return field(default=default, default_factory=default_factory, metadata={_KEY: Flag(**flag)})


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _flag(f: Field) -> Flag:
    return f.metadata.get(_KEY, Flag())


def _plain_type(annotation: Any) -> Any:
    """`int | None` -> int; other annotations as they are."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    return args[0] if args else annotation


def flag_fields(cls: type) -> Iterator[tuple[Field, Any]]:
    """Every flag field with its type, nested options dataclasses expanded in place."""
    hints = get_type_hints(cls)
    for f in fields(cls):
        kind = _plain_type(hints[f.name])
        if is_dataclass(kind):
            yield from flag_fields(kind)
        else:
            yield f, kind


def _argument_options(f: Field, kind: Any) -> dict[str, Any]:
    flag = _flag(f)
    kw: dict[str, Any] = {"help": flag.help}
    if f.default is MISSING and f.default_factory is MISSING:
        kw["required"] = True
    if kind is bool:
        return {**kw, "action": "store_true"}
    if isinstance(flag.limit, OneOf):
        kw["choices"] = list(flag.limit.choices)
    if flag.repeatable:
        return {**kw, "action": "append", "default": [], "type": flag.parse}
    default = None if f.default is MISSING else f.default
    return {**kw, "type": flag.parse or kind, "default": default}


def add_flags(parser: argparse.ArgumentParser, cls: type, names: Iterable[str] | None = None) -> None:
    """Adds the flags of `cls` (or only `names`, in that order) to `parser`."""
    by_name = {f.name: (f, kind) for f, kind in flag_fields(cls)}
    for name in by_name if names is None else names:
        f, kind = by_name[name]
        parser.add_argument(flag_name(name), **_argument_options(f, kind))


def from_flags(cls: type, args: argparse.Namespace) -> Any:
    """Builds `cls` from parsed flags (the reverse of `add_flags`)."""
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in fields(cls):
        kind = _plain_type(hints[f.name])
        if is_dataclass(kind):
            values[f.name] = from_flags(kind, args)
            continue
        collect = _flag(f).collect
        value = getattr(args, f.name)
        values[f.name] = collect(value) if collect else value
    return cls(**values)


def limit_of(cls: type, name: str) -> Limit:
    limit = next(_flag(f).limit for f, _ in flag_fields(cls) if f.name == name)
    if limit is None:
        raise KeyError(f"{cls.__name__}.{name} has no limit")
    return limit


def flag_problems(options: Any) -> list[str]:
    """One message per value outside its field's limit, in field order (None is never checked)."""
    problems: list[str] = []
    for f in fields(options):
        value = getattr(options, f.name)
        if is_dataclass(value):
            problems += flag_problems(value)
            continue
        limit = _flag(f).limit
        problem = None if limit is None or value is None else limit.problem(flag_name(f.name), value)
        if problem:
            problems.append(problem)
    return problems
