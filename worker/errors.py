"""One exception tree for newswatch; the CLI turns each into a one-line message."""


class NewswatchError(Exception):
    """Base class of every error newswatch raises on purpose."""


class ConfigError(NewswatchError):
    """The configuration is invalid; `problems` lists each as `file:line: key: what is wrong`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class UsageError(NewswatchError):
    """What was asked cannot be done as asked (a folder that must be empty is not); the
    command exits 2, as for a mistyped option."""


class FetchError(NewswatchError):
    """A download failed; the message names the URL and the reason."""

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        super().__init__(f"{url}: {reason}")


class BlockedAddressError(FetchError):
    """The URL resolves to an address newswatch refuses to contact (private, loopback...)."""


class TooLargeError(FetchError):
    """The response exceeds the configured size limit (after decompression)."""


class DeadlineError(FetchError):
    """The whole download took longer than the configured deadline."""


class HTTPStatusError(FetchError):
    """The server answered with a status that is neither success nor a redirect we follow."""

    def __init__(self, url: str, status: int, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(url, f"HTTP {status}", status=status)


class ParseError(NewswatchError):
    """A feed or page could not be parsed; the message says what and where."""


class WebPageError(ParseError):
    """A web page was given where a feed was expected; `feeds` are those it advertises."""

    def __init__(self, url: str, feeds: tuple[str, ...]) -> None:
        self.url = url
        self.feeds = feeds
        if not feeds:
            advice = ", and it advertises no feed (no <link rel=alternate> to RSS, Atom or JSON)"
        elif len(feeds) == 1:
            advice = f"; it advertises the feed {feeds[0]}: use that URL"
        else:
            advice = f"; it advertises {len(feeds)} feeds: {', '.join(feeds)}; use one of them"
        super().__init__(f"{url}: a web page (HTML), not a feed{advice}")


class DeliveryError(NewswatchError):
    """An alert could not be delivered to a channel."""

    def __init__(
        self,
        channel: str,
        reason: str,
        *,
        retryable: bool = True,
        retry_after: float | None = None,
        disable: bool = False,
    ) -> None:
        self.channel = channel
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.disable = disable
        super().__init__(f"{channel}: {reason}")
