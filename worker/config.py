"""Loads the YAML configuration (SPEC §2) into frozen, validated settings.

Every problem is reported as `file:line: key: what is wrong`, all of them at once, so a user
fixes a config in one pass instead of one error per start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeGuard, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from worker.config_files import (
    Location,
    Problems,
    YamlFile,
    YamlSyntaxError,
    did_you_mean,
    read_yaml,
    validation_problems,
)
from worker.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
# `${VAR}` and `${VAR:-default}` are expanded; `$${` is a literal `${` (how text that
# did not come from the user, an imported feed URL, is written into a config file).
_ENV_REFERENCE = re.compile(r"\$(\$\{)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_FEED_URL = re.compile(r"^https?://[^\s/\\]+")
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
    # New entries of a feed handed to one task at most; its pages are fetched ahead while
    # earlier ones are processed. 1 = a task per entry.
    entry_batch: int = Field(default=20, ge=1, le=100)
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
        if not is_feed_url(value):
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
                raise ValueError(
                    f"unknown event type {event!r}{did_you_mean(event, EVENT_TYPES)}"
                    f" (known: {', '.join(EVENT_TYPES)})"
                )
        return value


class AlertSettings(_Model):
    channels: dict[str, Channel] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)


@dataclass(frozen=True)
class Config:
    """Everything loaded from the config folder, validated."""

    directory: Path
    service: ServiceSettings
    feeds: tuple[FeedSettings, ...]
    topics: Mapping[str, TopicSettings]
    alerts: AlertSettings
    root: Path = field(default=Path("."))
    # Channels left out of `alerts` because a variable they name is unset (loaded with
    # `require_channels=False`): channel name → the problem, one line, to raise on sending.
    unresolved: Mapping[str, str] = field(default_factory=dict)

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


def config_stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a config file is edited, added or removed: (name, mtime, size)
    of each. Workers compare it before a task to take up changes without a restart."""
    paths = [directory / name for name in ("newswatch.yaml", "feeds.yaml", "alerts.yaml")]
    paths += sorted((directory / "topics").glob("*.y*ml"))
    stamp = []
    for path in paths:
        try:
            status = path.stat()
        except FileNotFoundError:
            continue
        stamp.append((str(path.relative_to(directory)), status.st_mtime_ns, status.st_size))
    return tuple(stamp)


def load_service(
    directory: Path | None = None, env: Mapping[str, str] | None = None
) -> ServiceSettings:
    """newswatch.yaml alone, for a command that fetches but needs no topics or alerts."""
    directory = Path(directory or default_config_dir())
    env = os.environ if env is None else env
    problems = Problems()
    source = _read_yaml(directory / "newswatch.yaml", problems, required=False)
    raw, overridden = _apply_env_overrides(source.data or {}, env)
    service = _validate(ServiceSettings, raw, source, env, problems, overridden=overridden)
    if service is None or problems:
        raise ConfigError(problems.all())
    return service


def load_config(
    directory: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    texts: Mapping[str, str] | None = None,
    require_channels: bool | None = None,
) -> Config:
    """Load and validate the whole config folder; raise ConfigError listing every problem.

    `texts` (file name → YAML) stands in for files on disk: `feeds add` checks the file it
    is about to write. `require_channels`: whether an alert channel naming an unset
    environment variable (its webhook secret) is a problem; by default it is unless the
    service is in dry run, which sends nothing. When not, the channel is left out of
    `alerts.channels` and kept in `unresolved`, for `sending` to refuse: a command that
    only reads needs no alert secrets.
    """
    directory = Path(directory or default_config_dir())
    env = os.environ if env is None else env
    texts = texts or {}
    problems = Problems()
    if not directory.is_dir():
        raise ConfigError([f"{directory}: the config folder does not exist"])

    def read(path: Path, required: bool = False) -> YamlFile:
        return _read_yaml(path, problems, required=required, text=texts.get(path.name))

    service_file = read(directory / "newswatch.yaml")
    service_raw, overridden = _apply_env_overrides(service_file.data or {}, env)
    service = _validate(
        ServiceSettings, service_raw, service_file, env, problems, overridden=overridden
    )

    # Topic files first: every topic named by a file counts as existing even when the file
    # is invalid, so a mistake in it is reported once, not again at every reference to it.
    topic_files = [read(path, True) for path in sorted((directory / "topics").glob("*.y*ml"))]
    topic_names = _topic_names(topic_files)
    topics: dict[str, TopicSettings] = {}
    for source in topic_files:
        _check_figures_name_entities(source, problems)
        topic = _validate(TopicSettings, source.data, source, env, problems)
        if topic is None:
            continue
        if topic.id != source.path.stem:
            problems.at(
                source, ("id",), f"{topic.id!r} differs from the file name {source.path.stem!r}"
            )
        topics[topic.id] = topic

    feeds_file = read(directory / "feeds.yaml")
    feeds: list[FeedSettings] = []
    feeds_raw = feeds_file.data or {}  # an empty or absent file: no feeds
    feed_list = (feeds_raw.get("feeds") or []) if _is_mapping(feeds_raw) else None
    if not isinstance(feed_list, list):
        problems.at(feeds_file, ("feeds",), "must be a list of feeds")
        feed_list = []
    for index, raw in enumerate(feed_list):
        where = ("feeds", index)
        _check_names(feeds_file, raw, where, "topics", topic_names, "topic", problems)
        feed = _validate(FeedSettings, raw, feeds_file, env, problems, prefix=where)
        if feed is not None:
            feeds.append(feed)

    alerts_file = read(directory / "alerts.yaml")
    alerts_raw = alerts_file.data or {}
    if _is_mapping(alerts_raw) and isinstance(alerts_raw.get("routes"), list):
        channels = alerts_raw.get("channels")
        channel_names = set(channels) if _is_mapping(channels) else set()
        for index, route in enumerate(alerts_raw["routes"]):
            where = ("routes", index)
            _check_names(alerts_file, route, where, "topics", topic_names, "topic", problems)
            _check_names(alerts_file, route, where, "channels", channel_names, "channel", problems)
    if require_channels is None:
        require_channels = not (service is not None and service.dry_run)
    unresolved: dict[str, str] = {}
    if not require_channels:
        alerts_raw, unresolved = _without_unresolved_channels(alerts_raw, alerts_file, env)
    alerts = _validate(AlertSettings, alerts_raw, alerts_file, env, problems)

    if problems:
        raise ConfigError(problems.all())
    assert service is not None and alerts is not None
    return Config(
        directory=directory,
        service=service,
        feeds=tuple(feeds),
        topics=topics,
        alerts=alerts,
        root=directory.resolve().parent,
        unresolved=unresolved,
    )


def sending(config: Config, channels: Iterable[str] | None = None) -> Config:
    """`config`, for a command about to send alerts through `channels` (default: every
    one); ConfigError, one line per channel, when one of them lacks its variables."""
    names = config.unresolved if channels is None else channels
    problems = [config.unresolved[name] for name in names if name in config.unresolved]
    if problems:
        raise ConfigError(problems)
    return config


def _without_unresolved_channels(
    raw: Any, source: YamlFile, env: Mapping[str, str]
) -> tuple[Any, dict[str, str]]:
    """alerts.yaml's data without the channels that name an unset variable, and for each
    of those the line that says which (`sending` raises it)."""
    channels = raw.get("channels") if _is_mapping(raw) else None
    if not _is_mapping(channels):
        return raw, {}
    unresolved: dict[str, str] = {}
    for name, channel in channels.items():
        missing: list[tuple[Location, str]] = []
        _expand(channel, env, ("channels", str(name)), missing)
        variables = list(dict.fromkeys(variable for _, variable in missing))
        if not variables:
            continue
        where = ("channels", str(name))
        listed = " and ".join(
            [", ".join(variables[:-1]), variables[-1]] if len(variables) > 1 else variables
        )
        verb = "is" if len(variables) == 1 else "are"
        line = source.line(where)
        unresolved[str(name)] = (
            f"{source.path}{f':{line}' if line else ''}: channels.{name}: environment "
            f"variable{'s' if len(variables) > 1 else ''} {listed} {verb} not set "
            "(needed to send alerts; .env.example lists them)"
        )
    kept = {name: channel for name, channel in channels.items() if str(name) not in unresolved}
    return {**raw, "channels": kept}, unresolved


def check_config(
    directory: Path | None = None, *, texts: Mapping[str, str] | None = None
) -> list[str]:
    """Every problem in the config folder, or an empty list when it is valid."""
    try:
        load_config(directory, texts=texts, require_channels=True)
    except ConfigError as error:
        return error.problems
    return []


def topic_names(directory: Path) -> set[str]:
    """The topics the folder names, valid or not (a file's name and the id in it)."""
    problems = Problems()  # a broken file still names a topic; its problems are check-config's
    paths = sorted((directory / "topics").glob("*.y*ml"))
    return _topic_names([_read_yaml(path, problems) for path in paths])


def _topic_names(topic_files: list[YamlFile]) -> set[str]:
    names = {source.path.stem for source in topic_files}
    for source in topic_files:
        raw_id = source.data.get("id") if _is_mapping(source.data) else None
        if isinstance(raw_id, str):
            names.add(raw_id)
    return names


def is_feed_url(url: str) -> bool:
    """What `url:` in feeds.yaml accepts: http(s) with a host."""
    return bool(_FEED_URL.match(url))


def _is_mapping(value: object) -> TypeGuard[dict[Any, Any]]:
    return isinstance(value, dict)


def _check_names(
    source: YamlFile,
    raw: object,
    where: Location,
    key: str,
    known: set[str],
    kind: str,
    problems: Problems,
) -> None:
    """Each name listed under `key` must be one of `known` ("*" is every one)."""
    names = raw.get(key) if _is_mapping(raw) else None
    if not isinstance(names, list):
        return  # absent or not a list: validation says so
    for index, name in enumerate(names):
        if isinstance(name, str) and name != "*" and name not in known:
            problems.add(
                source.path,
                f"no {kind} named {name!r}{did_you_mean(name, known)}",
                (*where, key),
                source.line((*where, key, index)),
            )


def _check_figures_name_entities(source: YamlFile, problems: Problems) -> None:
    """Each figure is `about` one of the topic's entities (checked on what the file says,
    so the other mistakes in the file do not hide this one)."""
    raw = source.data
    figures = raw.get("figures") if _is_mapping(raw) else None
    entities = raw.get("entities", {}) if _is_mapping(raw) else None
    if not _is_mapping(figures) or not _is_mapping(entities):
        return
    for figure_id, figure in figures.items():
        about = figure.get("about") if _is_mapping(figure) else None
        if isinstance(about, str) and about not in entities:
            names = ", ".join(sorted(map(str, entities))) or "none defined"
            problems.at(
                source,
                ("figures", figure_id, "about"),
                f"{about!r} is not one of the entities ({names}){did_you_mean(about, entities)}",
            )


def _read_yaml(
    path: Path, problems: Problems, *, required: bool = True, text: str | None = None
) -> YamlFile:
    if text is None and not path.exists():
        if required:
            problems.add(path, "the file does not exist")
        return YamlFile(path)
    try:
        return read_yaml(path, text)
    except YamlSyntaxError as error:
        problems.add(path, f"not valid YAML: {error.reason}", line=error.line)
        return YamlFile(path)


def _expand(
    value: Any, env: Mapping[str, str], key: Location, missing: list[tuple[Location, str]]
) -> Any:
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
        return {k: _expand(v, env, (*key, str(k)), missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, (*key, i), missing) for i, v in enumerate(value)]
    return value


def literal(text: str) -> str:
    """`text` as it must be written into a config file to be read back unchanged.

    Environment expansion is for what the user writes; a URL or name taken from an
    imported or fetched file is data, and `${SECRET}` in it must stay text.
    """
    return text.replace("${", "$${")


def _apply_env_overrides(raw: Any, env: Mapping[str, str]) -> tuple[Any, dict[Location, str]]:
    """newswatch.yaml with `NEWSWATCH_<KEY>` variables applied, and which key each set."""
    if not isinstance(raw, dict):
        return raw, {}
    merged = dict(raw)
    overridden: dict[Location, str] = {}
    for name in ServiceSettings.model_fields:
        variable = f"NEWSWATCH_{name.upper()}"
        if variable in env and name != "smtp":
            merged[name] = env[variable]
            overridden[(name,)] = variable
    smtp = merged.get("smtp") or {}
    if not isinstance(smtp, dict):
        return merged, overridden  # `smtp: localhost`: validation names the key
    smtp = dict(smtp)
    for name in SmtpSettings.model_fields:
        variable = f"NEWSWATCH_SMTP_{name.upper()}"
        if variable in env:
            smtp[name] = env[variable]
            overridden[("smtp", name)] = variable
    if smtp:
        merged["smtp"] = smtp
    return merged, overridden


def _validate(
    model: type[M],
    raw: Any,
    source: YamlFile,
    env: Mapping[str, str],
    problems: Problems,
    prefix: Location = (),
    overridden: Mapping[Location, str] | None = None,
) -> M | None:
    """The settings, or None after reporting every problem in them (a value set by an
    environment variable, `overridden`, is reported as the variable's)."""
    if raw is None:
        return None
    missing: list[tuple[Location, str]] = []
    expanded = _expand(raw, env, prefix, missing)
    for key, variable in missing:
        problems.at(source, key, f"environment variable {variable} is not set")
    if not isinstance(expanded, dict):
        problems.at(source, prefix, "expected a mapping of keys (key: value lines)")
        return None
    try:
        settings = model.model_validate(expanded)
    except ValidationError as error:
        unset = {key for key, _ in missing}
        for location, message in validation_problems(model, error, prefix):
            # A value whose variable is unset is reported as that, not as empty.
            if any(location[: len(key)] == key for key in unset):
                continue
            setter = next(
                (v for key, v in (overridden or {}).items() if location[: len(key)] == key), None
            )
            if setter:
                problems.add(source.path, f"{message} (set by {setter})", location)
            else:
                problems.at(source, location, message)
        return None
    return None if missing else settings
