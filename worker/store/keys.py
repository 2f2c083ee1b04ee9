"""newswatch's Redis key schema, in one table: every key the store reads or writes.

All keys start with `nw:`. "Index" keys are rebuilt from the corpus folders by
`newswatch reindex` (`Store.flush_indexes` drops them first); the rest are schedules,
logs and state that only Redis holds.

| key | type | holds | kind |
|---|---|---|---|
| `feed:<feed>` | string | a feed's state (JSON `FeedState`) | state |
| `due:<kind>` | zset | what is due when (`feeds`, `entries`, `routes`, `deliveries`) | schedule |
| `seen:<feed>` | zset | entry ids a feed has listed, by when it last listed them | state |
| `outbox:<feed>` | hash | entries staged for hand-off (id → JSON) | state |
| `entry:<entry>` | string | the claim of the task processing an entry (expires) | state |
| `failures` | hash | entries that failed, retried or parked (JSON) | log |
| `lines:<source>` | hash | how many documents of a source repeat a line (boilerplate) | state |
| `host:<host>` | zset | per-host poll slots, owner → lease end | schedule |
| `lock:topic:<topic>` | string | the topic lock | state |
| `lock:topic:<topic>:woken` | list | wakes a task waiting for the topic lock (expires) | state |
| `topic:<topic>:ready` | string | the topic's seeds and corpus are indexed | index |
| `seq:<topic>` | string | the topic's last document number | index |
| `docs:<topic>` | hash | held documents (id → JSON `HeldDocument`) | index |
| `texthash:<topic>` | hash | sha256 of a text → document id | index |
| `sig:<topic>` | hash | MinHash signatures (id → base64) | index |
| `lsh:<topic>:<band>:<shard>` | hash | LSH band buckets (bucket → ids) | index |
| `figures:<topic>` | hash | each figure's state (JSON `FigureState`) | index |
| `history:<topic>:<figure>` | list | a figure's history steps (JSON `FigureStep`) | index |
| `history-version:<topic>:<figure>` | string | a token new with each change of it | index |
| `entities:<topic>` | set | tracked entities already sighted | index |
| `known-names:<topic>` | set | name words the seeds and first-loaded documents use | index |
| `name-docs:<topic>:<name>` | set | an untracked name's documents | index |
| `name-sources:<topic>:<name>` | set | an untracked name's outlets | index |
| `emerged:<topic>` | set | names already suggested | index |
| `event:<event>` | string | an alert event (JSON payload) | log |
| `events` | zset | event ids by detection time | log |
| `deliveries:<event>` | hash | each channel's delivery (JSON `Delivery`) | log |
| `delivery-claim:<event>:<channel>` | string | the attempt sending a delivery (expires) | state |
| `channels:disabled` | hash | channels disabled by a 410, with the reason | state |
| `digest:<channel>` | list | a digest's pending events | state |
| `digest:<channel>:<since, next, attempts>` | string | a digest's schedule | state |
| `stats` | hash | counts of outcomes since the start | log |
| `run:<run>:<what>` | various | a `poll --once` run: pending, counts (expire) | state |
| `latency:…`, `task-wait:…` | hash | task run time and queue wait histograms | log |

What keeps each key from growing as feeds keep publishing: an index grows with the corpus
it indexes (documents, their bands, names; LSH buckets hold at most 32 ids); state, logs
and schedules are bounded as follows.

| key | bounded by |
|---|---|
| `feed:`, `seen:` | configured feeds; both expire 30 d after a feed leaves the config |
| `seen:<feed>` | what the feed lists, and what it stopped listing within max(30 d, `max_age`) |
| `outbox:`, `failures` | an entry leaves once processed; a parked one when `seen:` forgets it |
| `entry:<entry>` | a TTL: the task's claim, then 14 d once processed |
| `lines:<source>` | aged past 5,000 lines; expires 30 d after the source's last document |
| `due:<kind>` | a member leaves when its work is done (a feed: when it leaves the config) |
| `host:<host>`, `lock:…`, `run:…` | TTLs (a run's keys: 1 d, set again on every change) |
| `delivery-claim:…` | a TTL: an attempt's send and its record, then it is let go |
| `digest:<channel>` | emptied by each send |
| `event:`, `events`, `deliveries:` | alerts raised: kept, as an event's id refuses a resend |
| `stats`, `latency:…`, `task-wait:…`, `channels:…` | names: outcomes, tasks, channels |
"""

from __future__ import annotations

P = "nw:"
FAILURES = f"{P}failures"
EVENTS = f"{P}events"
STATS = f"{P}stats"
CHANNELS_DISABLED = f"{P}channels:disabled"
# What `reindex` can rebuild from the corpus folders, as SCAN patterns.
INDEX_PATTERNS = tuple(
    f"{P}{name}:*"
    for name in (
        "docs", "texthash", "sig", "lsh", "seq", "topic", "figures", "history",
        "history-version", "entities", "known-names", "name-docs", "name-sources", "emerged",
    )
)  # fmt: skip


def feed(feed_id: str) -> str:
    return f"{P}feed:{feed_id}"


def due(kind: str) -> str:
    return f"{P}due:{kind}"


def seen(feed_id: str) -> str:
    return f"{P}seen:{feed_id}"


def outbox(feed_id: str) -> str:
    return f"{P}outbox:{feed_id}"


def entry(entry_id: str) -> str:
    return f"{P}entry:{entry_id}"


def lines(source: str) -> str:
    return f"{P}lines:{source}"


def host(name: str) -> str:
    return f"{P}host:{name}"


def topic_lock(topic: str) -> str:
    return f"{P}lock:topic:{topic}"


def topic_lock_woken(topic: str) -> str:
    return f"{P}lock:topic:{topic}:woken"


def topic_ready(topic: str) -> str:
    return f"{P}topic:{topic}:ready"


def sequence(topic: str) -> str:
    return f"{P}seq:{topic}"


def documents(topic: str) -> str:
    return f"{P}docs:{topic}"


def text_hashes(topic: str) -> str:
    return f"{P}texthash:{topic}"


def signatures(topic: str) -> str:
    return f"{P}sig:{topic}"


def lsh_bucket(topic: str, band: str, shard: str) -> str:
    return f"{P}lsh:{topic}:{band}:{shard}"


def figures(topic: str) -> str:
    return f"{P}figures:{topic}"


def history(topic: str, figure: str) -> str:
    return f"{P}history:{topic}:{figure}"


def history_version(topic: str, figure: str) -> str:
    return f"{P}history-version:{topic}:{figure}"


def entities(topic: str) -> str:
    return f"{P}entities:{topic}"


def known_names(topic: str) -> str:
    return f"{P}known-names:{topic}"


def name_documents(topic: str, name: str) -> str:
    return f"{P}name-docs:{topic}:{name}"


def name_sources(topic: str, name: str) -> str:
    return f"{P}name-sources:{topic}:{name}"


def emerged(topic: str) -> str:
    return f"{P}emerged:{topic}"


def event(event_id: str) -> str:
    return f"{P}event:{event_id}"


def deliveries(event_id: str) -> str:
    return f"{P}deliveries:{event_id}"


def delivery_claim(event_id: str, channel: str) -> str:
    return f"{P}delivery-claim:{event_id}:{channel}"


def digest(channel: str, part: str = "") -> str:
    """A digest's pending events, or with `part` its `since`, `next` or `attempts`."""
    return f"{P}digest:{channel}" + (f":{part}" if part else "")


def run(run_id: str, what: str) -> str:
    return f"{P}run:{run_id}:{what}"


def histogram(measure: str, task: str = "") -> str:
    """A task-time histogram (`latency`, `task-wait`), per task or its list of tasks."""
    return f"{P}{measure}" + (f":{task}" if task else "")
