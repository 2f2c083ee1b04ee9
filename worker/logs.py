"""Logging for every newswatch process: plain text by default, one JSON object per line
with `log_format: json` (python-json-logger); control characters always escaped."""

from __future__ import annotations

import logging
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

from worker.terminal import guard_handlers

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            json_ensure_ascii=False,
        )
    return logging.Formatter(TEXT_FORMAT)


def use_format(logger: logging.Logger, log_format: LogFormat) -> None:
    """Give every handler of `logger` newswatch's format and the terminal guard."""
    for handler in logger.handlers:
        handler.setFormatter(formatter(log_format))
    guard_handlers(logger)


def configure(log_format: LogFormat, level: int = logging.WARNING) -> None:
    """Set up the root logger of a command-line process."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    root.setLevel(level)
    use_format(root, log_format)
