"""`feeds add` and `feeds import`: new feeds appended to the user's feeds.yaml with its
comments and layout kept (a ruamel.yaml round trip), the result checked as `check-config`
would before it is written, and written atomically (a temporary file renamed over it)."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from worker.config import check_config, topic_names
from worker.config_files import did_you_mean
from worker.errors import ConfigError

FEEDS_FILE = "feeds.yaml"


@dataclass(frozen=True)
class NewFeed:
    url: str
    topics: tuple[str, ...]
    name: str | None = None
    note: str | None = None  # a comment written above it (and above those that follow)


@dataclass(frozen=True)
class Added:
    feeds: tuple[NewFeed, ...]  # those written; the others were already in the file
    path: Path


def add_feeds(directory: Path, feeds: Sequence[NewFeed]) -> Added:
    """Append the feeds not yet listed; raise ConfigError, writing nothing, when the file
    would not pass `check-config`."""
    path = directory / FEEDS_FILE
    known = topic_names(directory)
    unknown = sorted({t for feed in feeds for t in feed.topics if t not in known})
    if unknown:  # once per topic, not once per feed of a long OPML file
        raise ConfigError(
            [f"no topic named {topic!r}{did_you_mean(topic, known)}" for topic in unknown]
        )
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    new_text, added = _with_feeds(path, text, feeds)
    if not added:
        return Added((), path)
    problems = [
        problem
        for problem in check_config(directory, texts={FEEDS_FILE: new_text})
        if problem.startswith(f"{path}:")
    ]
    if problems:
        raise ConfigError(problems)
    write_atomically(path, new_text)
    return Added(tuple(added), path)


def _with_feeds(path: Path, text: str, feeds: Sequence[NewFeed]) -> tuple[str, list[NewFeed]]:
    yaml = YAML()  # round trip: comments, order, flow and block styles are kept
    yaml.width = 4096  # long URLs are never folded
    indent, offset = 4, 2  # the shipped file's style: "  - url: …"
    if text.strip():
        try:
            _, guessed, guessed_offset = load_yaml_guess_indent(text)
        except YAMLError as error:
            raise ConfigError([f"{path}: not valid YAML: {error}"]) from error
        if guessed is not None and guessed_offset is not None:
            indent, offset = guessed, guessed_offset
    yaml.indent(mapping=indent, sequence=indent, offset=offset)
    data = yaml.load(text) if text.strip() else None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ConfigError([f"{path}: expected a mapping with a feeds: list"])
    listed = data.get("feeds")
    if listed is None:
        listed = data["feeds"] = CommentedSeq()
    if not isinstance(listed, CommentedSeq):
        raise ConfigError([f"{path}:{data.lc.key('feeds')[0] + 1}: feeds: must be a list"])
    if not listed:
        listed.fa.set_block_style()  # `feeds: []` grows into a block list
    known = {item.get("url") for item in listed if isinstance(item, dict)}
    flow_topics = not any(_block_topics(item) for item in listed)
    added: list[NewFeed] = []
    note: str | None = None
    for feed in feeds:
        if feed.url in known:
            continue
        known.add(feed.url)
        entry = CommentedMap(url=feed.url)
        if feed.name:
            entry["name"] = feed.name
        topics = CommentedSeq(feed.topics)
        if flow_topics:
            topics.fa.set_flow_style()
        entry["topics"] = topics
        listed.append(entry)
        if feed.note and feed.note != note:
            listed.yaml_set_comment_before_after_key(
                len(listed) - 1, before=feed.note, indent=offset
            )
        note = feed.note
        added.append(feed)
    output = io.StringIO()
    yaml.dump(data, output)
    return output.getvalue(), added


def _block_topics(item: Any) -> bool:
    topics = item.get("topics") if isinstance(item, dict) else None
    return isinstance(topics, CommentedSeq) and not topics.fa.flow_style()


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside the target, then rename it over the target: a
    reader sees the old file or the new one, never half of one."""
    target = path.resolve()  # through a symlink: the file it points at is replaced
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
