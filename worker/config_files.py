"""The config folder's YAML files as files: each read with the line of every key, and
each problem found in them written once as `file:line: key: what is wrong`."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlFile:
    """One YAML file as read: its data, and the line of each key and list item in it."""

    path: Path
    data: Any = None
    lines: Mapping[tuple[str, ...], int] = field(default_factory=dict)

    def line(self, location: Location) -> int | None:
        """The line of `location`, or of the nearest enclosing key the file has."""
        parts = tuple(str(part) for part in location)
        while parts and parts not in self.lines:
            parts = parts[:-1]
        return self.lines.get(parts)


class YamlSyntaxError(Exception):
    def __init__(self, line: int | None, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(reason)


def read_yaml(path: Path, text: str | None = None) -> YamlFile:
    """Parse `text` (by default the file's) as PyYAML's safe loader does, keeping marks."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise YamlSyntaxError(None, f"not UTF-8 text ({error.reason})") from error
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise YamlSyntaxError(line, str(getattr(error, "problem", None) or error)) from error
    finally:
        loader.dispose()
    lines: dict[tuple[str, ...], int] = {}
    if node is not None:
        _mark_lines(node, (), lines)
    return YamlFile(path, data, lines)


def _mark_lines(node: yaml.Node, at: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> None:
    lines.setdefault(at, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                lines[(*at, str(key.value))] = key.start_mark.line + 1
                _mark_lines(value, (*at, str(key.value)), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _mark_lines(item, (*at, str(index)), lines)


class Problems:
    """Every problem found, each once, in the order found."""

    def __init__(self) -> None:
        self._found: dict[str, None] = {}

    def add(
        self, path: Path, message: str, location: Location = (), line: int | None = None
    ) -> None:
        where = f"{path}:{line}" if line else f"{path}"
        key = ".".join(str(part) for part in location)
        self._found.setdefault(f"{where}: {key}: {message}" if key else f"{where}: {message}")

    def at(self, source: YamlFile, location: Location, message: str) -> None:
        self.add(source.path, message, location, source.line(location))

    def __bool__(self) -> bool:
        return bool(self._found)

    def __len__(self) -> int:
        return len(self._found)

    def all(self) -> list[str]:
        return list(self._found)


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for a near name (difflib's ratio), else nothing."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# Error types whose input is echoed: mistyped numbers, flags and names, never free text
# (a secret written in the wrong place must not be printed).
_ECHOED = {
    "int_parsing", "int_type", "int_from_float", "float_parsing", "float_type",
    "bool_parsing", "bool_type", "greater_than", "greater_than_equal", "less_than",
    "less_than_equal", "string_pattern_mismatch",
}  # fmt: skip


def validation_problems(
    model: type[BaseModel], error: ValidationError, prefix: Location = ()
) -> list[tuple[Location, str]]:
    """Each of pydantic's errors as (location as written in the file, message)."""
    found = []
    for detail in error.errors():
        location, fields = _walk(model, detail["loc"])
        kind, value, context = detail["type"], detail.get("input"), detail.get("ctx") or {}
        message = detail["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            message = "unknown key" + did_you_mean(str(location[-1]), fields)
        elif kind == "literal_error":
            expected = str(context.get("expected", ""))
            message = f"{value!r} is not allowed: use {expected}" + did_you_mean(
                value, _quoted(expected)
            )
        elif kind == "union_tag_invalid":
            expected = str(context.get("expected_tags", ""))
            location = (*location, "type")
            message = f"{context.get('tag')!r} is not allowed: use {expected}" + did_you_mean(
                context.get("tag"), _quoted(expected)
            )
        elif kind == "union_tag_not_found":
            location = (*location, "type")
            message = "missing"
        elif kind in ("model_type", "dict_type"):
            # The value itself is not echoed: it may be a secret written in the wrong place.
            message = f"expected a mapping of keys (key: value lines), found a {_kind(value)}"
        elif kind in _ECHOED and isinstance(value, str | int | float) and len(str(value)) < 80:
            message = f"{message} (found {value!r})"
        found.append(((*prefix, *location), message))
    return found


def _quoted(expected: str) -> list[str]:
    return re.findall(r"'([^']*)'", expected)


def _kind(value: object) -> str:
    return {str: "text", int: "number", float: "number", list: "list", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _walk(model: type[BaseModel], loc: Sequence[str | int]) -> tuple[Location, list[str]]:
    """pydantic's location without the tags of discriminated unions (they are not keys in
    the file), and the keys allowed where it ends (for "did you mean")."""
    annotation: Any = model
    shown: list[str | int] = []
    fields: list[str] = []
    for part in loc:
        annotation = _bare(annotation)
        fields = list(annotation.model_fields) if _is_model(annotation) else []
        if _is_model(annotation):
            field_info = annotation.model_fields.get(str(part))
            annotation = field_info.annotation if field_info else None
        elif get_origin(annotation) in (dict, Mapping):
            annotation = get_args(annotation)[1]
        elif get_origin(annotation) in (list, tuple):
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType):
            members = [m for m in map(_bare, get_args(annotation)) if _tag(m) == part]
            if members:
                annotation = members[0]
                continue  # a discriminator's tag: not shown
            annotation = None
        else:
            annotation = None
        shown.append(part)
    return tuple(shown), fields


def _bare(annotation: Any) -> Any:
    """Without `Annotated[...]` and an optional `| None`."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [m for m in get_args(annotation) if m is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _tag(annotation: Any) -> object:
    if not _is_model(annotation) or "type" not in annotation.model_fields:
        return None
    kind = annotation.model_fields["type"].annotation
    return get_args(kind)[0] if get_origin(kind) is Literal else None
