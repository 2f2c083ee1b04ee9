"""Loads the YAML configuration (SPEC §2) into frozen, validated settings.

Every problem is reported as `file: key: what is wrong`, all of them at once, so a user
fixes a config in one pass instead of one error per start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from worker.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
# `${VAR}` and `${VAR:-default}` are expanded; `$${` is a literal `${` (how text that
# did not come from the user, an imported feed URL, is written into a config file).
_ENV_REFERENCE = re.compile(r"\$(\$\{)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: object) -> float:
    """Seconds from `90`, `"90s"`, `"15m"`, `"2h"` or `"1d"`."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 15m or 2h")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    raise ValueError(f"{value!r} is not a duration such as 30s, 15m or 2h")


Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SmtpSettings(_Model):
    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["plain", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: str | None = None
    sender: str = "newswatch@localhost"
    timeout: Duration = 30.0
    ca_file: Path | None = None  # a CA bundle for a relay whose certificate an internal CA signs

    @field_validator("username", "password", "ca_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value


class ServiceSettings(_Model):
    """`config/newswatch.yaml`; every key can be overridden by `NEWSWATCH_<KEY>`."""

    redis_url: str | None = None
    data_dir: Path = Path("data")
    poll_interval: Duration = 900.0
    min_poll_interval: Duration = 300.0
    max_poll_interval: Duration = 86400.0
    tick_interval: Duration = 10.0
    fetch_timeout: Duration = 30.0
    max_download_bytes: int = Field(default=10_000_000, gt=0)
    max_redirects: int = Field(default=5, ge=0, le=20)
    per_host_concurrency: int = Field(default=2, ge=1)
    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"
    allow_private_networks: bool = False
    feed_failing_after: Duration = 21600.0
    task_time_limit: Duration = 300.0
    log_format: Literal["text", "json"] = "text"  # json: one object per line, for collectors
    # Process everything, send nothing: deliveries are recorded as `dry_run` and printed.
    dry_run: bool = False
    smtp: SmtpSettings = SmtpSettings()

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _interval_bounds(self) -> ServiceSettings:
        if self.min_poll_interval > self.max_poll_interval:
            raise ValueError("min_poll_interval is larger than max_poll_interval")
        return self


def feed_id(url: str) -> str:
    """Stable id of a configured feed (its state keeps the URL current after a 301)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


class FeedSettings(_Model):
    url: str
    topics: list[str] = Field(min_length=1)
    name: str | None = None
    interval: Duration | None = None
    max_age: Duration | None = None  # overrides the topic's for this feed's entries

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/\\]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


class MatchGroup(_Model):
    any: list[str] = Field(min_length=1)


class Relevance(_Model):
    all: list[MatchGroup] = Field(default_factory=list)


class FigureSettings(_Model):
    label: str
    about: str
    units: list[str] = Field(min_length=1)
    context: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    alert: Literal["increase", "decrease", "change"] = "increase"
    tolerance: float = Field(default=0.0, ge=0.0, lt=1.0)
    max_value: float | None = Field(default=None, gt=0)  # larger observations are absurd
    ignore: list[
        Literal["about", "nearly", "more than", "at least", "up to", "planned", "exact"]
    ] = Field(default_factory=list)


class EmergingSettings(_Model):
    min_documents: int = Field(default=3, ge=1)
    min_sources: int = Field(default=2, ge=1)
    ignore: list[str] = Field(default_factory=list)  # names never suggested on this topic


class TopicSettings(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    seeds: Path | None = None
    corpus: Path | None = None
    relevance: Relevance = Relevance()
    entities: dict[str, list[str]] = Field(default_factory=dict)
    figures: dict[str, FigureSettings] = Field(default_factory=dict)
    duplicate_threshold: float = Field(default=0.6, gt=0.0, le=1.0)
    emerging: EmergingSettings = EmergingSettings()
    # An entry published longer ago than this never alerts (it still moves figures).
    max_age: Duration = 3 * 86400.0

    @model_validator(mode="after")
    def _figures_name_entities(self) -> TopicSettings:
        for figure_id, figure in self.figures.items():
            if figure.about not in self.entities:
                raise ValueError(
                    f"figures.{figure_id}.about: {figure.about!r} is not one of the entities"
                    f" ({', '.join(sorted(self.entities)) or 'none defined'})"
                )
        return self


class WebhookChannel(_Model):
    type: Literal["webhook"]
    url: str
    secret: str = Field(description="one or more whsec_ secrets separated by spaces")
    timeout: Duration = 15.0

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: str) -> str:
        if not value.split():
            raise ValueError("no secret given (whsec_ followed by base64)")
        for number, secret in enumerate(value.split(), 1):
            if not secret.startswith("whsec_"):
                raise ValueError("each secret must start with whsec_ (Standard Webhooks)")
            try:
                key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
            except binascii.Error:
                key = b""
            if not key:
                # Caught here, not at the first delivery, where it crashed the sender.
                raise ValueError(
                    f"secret {number}: what follows whsec_ must be base64 (the signing key)"
                )
        return value


class EmailChannel(_Model):
    type: Literal["email"]
    to: list[str] = Field(min_length=1)
    digest: Duration | None = None

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not re.fullmatch(r"[^@\s<>,]+@[^@\s<>,]+", address):
                raise ValueError(f"{address!r} is not an email address")
        return value


class AppriseChannel(_Model):
    type: Literal["apprise"]
    urls: list[str] = Field(min_length=1)


Channel = Annotated[WebhookChannel | EmailChannel | AppriseChannel, Field(discriminator="type")]
EVENT_TYPES = (
    "figure.changed",
    "entity.first_seen",
    "entity.emerging",
    "feed.failing",
    "feed.recovered",
)


class Route(_Model):
    topics: list[str] = Field(default_factory=lambda: ["*"])
    events: list[str] = Field(default_factory=lambda: ["*"])
    channels: list[str] = Field(min_length=1)

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        for event in value:
            if event != "*" and event not in EVENT_TYPES:
                raise ValueError(f"unknown event type {event!r}; known: {', '.join(EVENT_TYPES)}")
        return value


class AlertSettings(_Model):
    channels: dict[str, Channel] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)

    @model_validator(mode="after")
    def _routes_name_channels(self) -> AlertSettings:
        for index, route in enumerate(self.routes):
            for channel in route.channels:
                if channel not in self.channels:
                    raise ValueError(f"routes.{index}.channels: no channel named {channel!r}")
        return self


@dataclass(frozen=True)
class Config:
    """Everything loaded from the config folder, validated."""

    directory: Path
    service: ServiceSettings
    feeds: tuple[FeedSettings, ...]
    topics: Mapping[str, TopicSettings]
    alerts: AlertSettings
    root: Path = field(default=Path("."))

    @property
    def data_dir(self) -> Path:
        return self._resolve(self.service.data_dir)

    def corpus_dir(self, topic: TopicSettings) -> Path:
        if topic.corpus is None:
            return self.data_dir / "corpus" / topic.id
        return self._resolve(topic.corpus)

    def seeds_dir(self, topic: TopicSettings) -> Path | None:
        return None if topic.seeds is None else self._resolve(topic.seeds)

    def _resolve(self, path: Path) -> Path:
        # Relative paths in config files are relative to the project root, the folder
        # that holds `config/`, so the same files work from a clone and in the container.
        return path if path.is_absolute() else self.root / path


def default_config_dir() -> Path:
    return Path(os.environ.get("NEWSWATCH_CONFIG_DIR", "config"))


def load_config(directory: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate the whole config folder; raise ConfigError listing every problem."""
    directory = Path(directory or default_config_dir())
    env = os.environ if env is None else env
    problems: list[str] = []
    if not directory.is_dir():
        raise ConfigError([f"{directory}: the config folder does not exist"])

    service_raw = _read_yaml(directory / "newswatch.yaml", problems, required=False) or {}
    service_raw = _apply_env_overrides(service_raw, env, problems, directory / "newswatch.yaml")
    service = _validate(ServiceSettings, service_raw, directory / "newswatch.yaml", env, problems)

    feeds_path = directory / "feeds.yaml"
    feeds_raw = _read_yaml(feeds_path, problems, required=False) or {}
    feeds: list[FeedSettings] = []
    feed_list = feeds_raw.get("feeds", []) if isinstance(feeds_raw, dict) else None
    if not isinstance(feed_list, list):
        problems.append(f"{feeds_path}: feeds: must be a list of feeds")
        feed_list = []
    for index, raw in enumerate(feed_list):
        feed = _validate(FeedSettings, raw, feeds_path, env, problems, prefix=f"feeds.{index}")
        if feed is not None:
            feeds.append(feed)

    topics: dict[str, TopicSettings] = {}
    for path in sorted((directory / "topics").glob("*.y*ml")):
        topic = _validate(TopicSettings, _read_yaml(path, problems), path, env, problems)
        if topic is None:
            continue
        if topic.id != path.stem:
            problems.append(f"{path}: id: {topic.id!r} differs from the file name {path.stem!r}")
        topics[topic.id] = topic

    for index, feed in enumerate(feeds):
        for topic_id in feed.topics:
            if topic_id not in topics:
                problems.append(f"{feeds_path}: feeds.{index}.topics: no topic named {topic_id!r}")

    alerts_path = directory / "alerts.yaml"
    alerts = _validate(
        AlertSettings,
        _read_yaml(alerts_path, problems, required=False) or {},
        alerts_path,
        env,
        problems,
    )
    if alerts is not None:
        for index, route in enumerate(alerts.routes):
            for topic_id in route.topics:
                if topic_id != "*" and topic_id not in topics:
                    problems.append(
                        f"{alerts_path}: routes.{index}.topics: no topic named {topic_id!r}"
                    )

    if problems:
        raise ConfigError(problems)
    assert service is not None and alerts is not None
    return Config(
        directory=directory,
        service=service,
        feeds=tuple(feeds),
        topics=topics,
        alerts=alerts,
        root=directory.resolve().parent,
    )


def check_config(directory: Path | None = None) -> list[str]:
    """Every problem in the config folder, or an empty list when it is valid."""
    try:
        load_config(directory)
    except ConfigError as error:
        return error.problems
    return []


def _read_yaml(path: Path, problems: list[str], *, required: bool = True) -> Any:
    if not path.exists():
        if required:
            problems.append(f"{path}: the file does not exist")
        return None
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        where = getattr(error, "problem_mark", None)
        line = f"line {where.line + 1}" if where is not None else "(file)"
        problems.append(f"{path}: {line}: not valid YAML: {getattr(error, 'problem', error)}")
        return None


def _expand(value: Any, env: Mapping[str, str], key: str, missing: list[tuple[str, str]]) -> Any:
    """Replace `${VAR}` and `${VAR:-default}` in every string, recording unset variables."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            if match.group(1):
                return match.group(1)
            name, default = match.group(2), match.group(3)
            if name in env:
                return env[name]
            if default is not None:
                return default
            missing.append((key, name))
            return ""

        return _ENV_REFERENCE.sub(substitute, value)
    if isinstance(value, dict):
        return {
            k: _expand(v, env, f"{key}.{k}" if key else str(k), missing) for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _expand(v, env, f"{key}.{i}" if key else str(i), missing) for i, v in enumerate(value)
        ]
    return value


def literal(text: str) -> str:
    """`text` as it must be written into a config file to be read back unchanged.

    Environment expansion is for what the user writes; a URL or name taken from an
    imported or fetched file is data, and `${SECRET}` in it must stay text.
    """
    return text.replace("${", "$${")


def _apply_env_overrides(raw: Any, env: Mapping[str, str], problems: list[str], path: Path) -> Any:
    if not isinstance(raw, dict):
        return raw
    merged = dict(raw)
    for name in ServiceSettings.model_fields:
        variable = f"NEWSWATCH_{name.upper()}"
        if variable in env and name != "smtp":
            merged[name] = env[variable]
    smtp = merged.get("smtp") or {}
    if not isinstance(smtp, dict):
        return merged  # `smtp: localhost`: validation names the key and what it expects
    smtp = dict(smtp)
    for name in SmtpSettings.model_fields:
        variable = f"NEWSWATCH_SMTP_{name.upper()}"
        if variable in env:
            smtp[name] = env[variable]
    if smtp:
        merged["smtp"] = smtp
    return merged


def _validate(
    model: type[M],
    raw: Any,
    path: Path,
    env: Mapping[str, str],
    problems: list[str],
    prefix: str = "",
) -> M | None:
    if raw is None:
        return None
    missing: list[tuple[str, str]] = []
    expanded = _expand(raw, env, prefix, missing)
    for key, variable in missing:
        problems.append(f"{path}: {key}: environment variable {variable} is not set")
    if missing:
        return None
    if not isinstance(expanded, dict):
        problems.append(f"{path}: {prefix or '(top level)'}: expected a mapping of keys")
        return None
    try:
        return model.model_validate(expanded)
    except ValidationError as error:
        for detail in error.errors():
            location = ".".join(str(part) for part in (prefix, *detail["loc"]) if part != "")
            message = detail["msg"]
            if detail["type"] == "extra_forbidden":
                message = "unknown key"
            elif detail["type"] in ("model_type", "dict_type"):
                # The value itself is not echoed: it may be a secret written in the wrong place.
                found = type(detail["input"]).__name__
                message = f"expected a mapping of keys (key: value lines), found a {found}"
            elif message.startswith("Value error, "):
                message = message.removeprefix("Value error, ")
            problems.append(f"{path}: {location or '(top level)'}: {message}")
        return None
