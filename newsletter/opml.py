"""An OPML subscription list (rss2email, Feedly, Inoreader, NetNewsWire, Thunderbird, Miniflux...)
as ``[[topics]]`` tables to append to the config, for ``newsletter feeds import``.

    imported = import_opml(Path("subs.opml"), config=cfg)    # cfg: the config to compare with, or None
    imported.toml()        # the tables, with a comment header: printed for `>> newsletter.toml`
    imported.notes()       # renamed topics, one line each; imported.summary(): the closing line

The output is appended rather than the config rewritten, so nothing of a hand-written config (its
comments, its order) changes. The OPML is untrusted: a file anyone can mail a user. Its URLs must be
http(s) (a javascript: or file: URL would become a feed, a path a local file read), and its titles,
which become headings and comments, lose control characters and are cut to a length.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from newsletter.controls import strip_controls
from newsletter.errors import NewsletterError
from newsletter.wording import counted

if TYPE_CHECKING:
    from newsletter.config import Config

MAX_BYTES = 10 * 1024 * 1024  # a list of 10,000 feeds is about 2 MiB
MAX_TITLE = 100  # characters of a feed's name or a topic's heading
MAX_URL = 2000  # longer is no feed address but a payload
UNFILED = "Feeds"  # the topic of feeds outside any folder, when the OPML has no title
FOLDER_JOIN = " / "  # a nested folder's topic: "Science / Physics"
RENAMED = " (imported)"
_FIX_EXPORT = ("export the subscription list again from your reader (usually Settings > Import/Export > "
               "Export OPML) and pass that file.")


class OpmlError(NewsletterError):
    """The OPML cannot be imported at all: names the file, the problem and the fix."""

    exit_code = 2

    def __init__(self, path: object, problem: str, fix: str):
        self.path, self.problem, self.fix = str(path), problem, fix
        super().__init__(f"{clean(str(path), limit=None)}: {problem} Fix: {fix}")


@dataclass
class ImportedTopic:
    name: str
    feeds: list[dict[str, str] | str] = field(default_factory=list)
    urls: set[str] = field(default_factory=set)

    def add(self, url: str, name: str | None) -> None:
        if url not in self.urls:  # listed twice in one folder: once (the config refuses a feed twice in a topic)
            self.urls.add(url)
            self.feeds.append({"url": url, "name": name} if name else url)


@dataclass
class Imported:
    source: Path
    title: str | None
    topics: list[ImportedTopic]
    skipped: Counter[str]  # reason -> outlines
    renamed: list[tuple[str, str]]  # (the OPML's name, the name written) for topics the config already has
    cleaned: int  # titles that lost control characters or were cut
    compared_with: Path | None

    @property
    def feed_count(self) -> int:
        return len({url for t in self.topics for url in t.urls})

    def toml(self) -> str:
        import tomli_w  # every string escaped as TOML wants it: a title may hold quotes, backslashes, "]]"

        shown_file = shlex.quote(clean(str(self.source), limit=None))
        target = shlex.quote(clean(str(self.compared_with), limit=None)) if self.compared_with else None
        append = f"-c {target} >> {target}" if target else ">> newsletter.toml"
        from_title = f' ("{self.title}")' if self.title else ""
        header = [
            "",  # the config's last line may lack its newline: appended text still starts on a line of its own
            f"# Imported by `newsletter feeds import` from {clean(str(self.source), limit=None)}{from_title}: "
            f"{counted(self.feed_count, 'feed')} in {counted(len(self.topics), 'topic')}.",
            f"# Append to the config with:  newsletter feeds import {shown_file} {append}",
            "# then run `newsletter check`. A topic takes keywords, exclude and include_only too (see README).",
            "",
        ]
        body = tomli_w.dumps({"topics": [{"name": t.name, "feeds": t.feeds} for t in self.topics]})
        return "\n".join(header) + "\n" + body

    def notes(self) -> list[str]:
        where = self.compared_with.name if self.compared_with else "the config"
        return [f"topic {old!r} is already in {where}: imported as {new!r}" for old, new in self.renamed]

    def summary(self) -> str:
        line = (f"imported {counted(self.feed_count, 'feed')} in {counted(len(self.topics), 'topic')} "
                f"from {clean(str(self.source), limit=None)}")
        if self.skipped:
            reasons = _reasons(self.skipped)
            line += f"; skipped {sum(self.skipped.values())}: {reasons}"
        if self.cleaned:
            line += f"; {counted(self.cleaned, 'title')} cleaned of control characters or cut to {MAX_TITLE} characters"
        if self.compared_with is None:
            line += "; no --config given, so topic names were not compared with a config"
        return line

    def check_appends_to(self, config: Config) -> None:
        """Load the config as it will be with the output appended, so a mistake shows now, not at the next
        send: a config that wrote ``topics = [...]`` inline cannot take [[topics]] tables after it."""
        import tomllib

        from pydantic import ValidationError

        from newsletter.config import Config as Schema

        try:
            raw = tomllib.loads(config.path.read_text(encoding="utf-8") + self.toml())
            Schema.model_validate(raw, context={"base_dir": config.path.parent})
        except (tomllib.TOMLDecodeError, ValidationError) as e:
            raise OpmlError(config.path, f"the imported topics would not load appended to it ({clean(str(e), limit=300)}).",
                            "if it writes topics = [...] on one line, write them as [[topics]] tables first; "
                            "or print the tables without --config and paste them in by hand.") from None


def clean(text: str, *, limit: int | None = MAX_TITLE) -> str:
    """One line of plain text: no control or bidi characters, spaces collapsed, at most ``limit`` characters."""
    text = " ".join(strip_controls(unicodedata.normalize("NFC", text).replace("\n", " ").replace("\t", " ")).split())
    if limit is not None and len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return text


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a feed of the config, or None. Only http(s): the config would read any other
    address as a file path on this machine."""
    if len(url) > MAX_URL:
        return f"URL over {MAX_URL:,} characters"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        scheme = parts.scheme.lower() + ":" if parts.scheme and len(parts.scheme) <= 20 else "a path"
        return f"not an http(s) URL ({scheme})"
    from newsletter.config import url_problem as config_refuses  # what the config itself would refuse

    if "\\" in url or config_refuses(url):
        return "malformed URL"
    return None


_NO_XMLURL = "outline without an xmlUrl (a web page, an included list or an empty folder)"
_LIST_LINK = "link to another subscription list"
# The reasons above name one outline; these read after a count other than 1 ("1 outlines" read badly).
_PLURALS = {_NO_XMLURL: "outlines without an xmlUrl (a web page, an included list or an empty folder)",
            _LIST_LINK: "links to other subscription lists"}


def _reasons(skipped: Counter[str]) -> str:
    return ", ".join(f"{n} {why if n == 1 else _PLURALS.get(why, why)}" for why, n in skipped.most_common())


def read_opml(path: Path):
    """The OPML at ``path`` as listparser reads it and the outlines that are no feed (reason -> count),
    or an OpmlError naming the file, the problem and the fix."""
    import listparser
    from lxml import etree

    try:
        if path.stat().st_size > MAX_BYTES:
            raise OpmlError(path, f"is over {MAX_BYTES // 1024 // 1024} MiB, too big for a subscription list.",
                            "check it is the OPML export of your feed reader.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise OpmlError(path, "file not found.", "check the path; " + _FIX_EXPORT) from None
    except IsADirectoryError:
        raise OpmlError(path, "is a folder, not a file.", "pass the .opml file your reader exported.") from None
    except OSError as e:
        raise OpmlError(path, f"cannot read it ({e.strerror or e.__class__.__name__}).",
                        "make it a readable file.") from None
    if not data.strip():
        raise OpmlError(path, "is empty.", _FIX_EXPORT)
    # listparser reads leniently (an HTML parser that recovers from anything): a truncated export would
    # import half the list without a word. A strict XML parse first refuses it, and hands listparser
    # UTF-8 whatever the file's declared encoding (its parser ignores the declaration). No entity is
    # expanded and nothing is fetched: the file is untrusted.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        said = re.sub(r" \(<string>, line \d+\)$", "", str(e))
        raise OpmlError(path, f"is not well-formed XML ({clean(said, limit=200)}).",
                        "it may be cut short or not be an OPML file; " + _FIX_EXPORT) from None
    tag = etree.QName(root).localname if isinstance(root.tag, str) else ""
    if tag.lower() != "opml":
        hint = " (an RSS or Atom feed: put its URL in a topic's feeds instead)" if tag.lower() in ("rss", "feed", "rdf") else ""
        raise OpmlError(path, f"is XML but not OPML: its root element is <{clean(tag, limit=40)}>{hint}.",
                        _FIX_EXPORT)
    # A `category` attribute is a tag, not a folder: tags spread over many feeds would make a topic each.
    for element in root.iter():
        if isinstance(element.tag, str):
            element.attrib.pop("category", None)
    skipped: Counter[str] = Counter()
    for outline in root.iter("outline"):
        if not _attr(outline, "xmlurl") and not len(outline):
            skipped[_NO_XMLURL] += 1
        elif _attr(outline, "xmlurl") and _attr(outline, "type").lower() == "source":
            skipped[_LIST_LINK] += 1
    parsed = listparser.parse(etree.tostring(root, encoding="utf-8", xml_declaration=True))
    if parsed.bozo and not parsed.feeds:
        raise OpmlError(path, f"could not be read as OPML ({clean(str(parsed.bozo_exception), limit=200)}).",
                        _FIX_EXPORT)
    return parsed, skipped


def _attr(element, name: str) -> str:
    """An attribute whatever its case (xmlUrl, xmlurl): listparser reads them so."""
    return next((v.strip() for k, v in element.attrib.items() if k.lower() == name), "")


def import_opml(path: Path, *, config: Config | None = None, unfiled: str | None = None) -> Imported:
    """The feeds of the OPML at ``path`` as topics: one per folder (a nested one "Science / Physics"),
    the feeds outside any folder under ``unfiled`` (default: the OPML's title, else "Feeds"). With a
    ``config``, a topic name it already has is renamed and a feed it already has is left out, so the
    output appended to it loads."""
    parsed, skipped = read_opml(path)
    title = clean(parsed.meta.get("title") or "") or None
    unfiled_name = clean(unfiled or "") or title or UNFILED
    known_feeds = {f.url for f in config.feeds} if config else set()
    if config:
        known_feeds |= {_written_url(entry) for t in config.topics for entry in t.feeds}
    topics: dict[str, ImportedTopic] = {}
    # A folder's topic comes where the folder first appears, before the folders inside it.
    first_seen: dict[tuple[str, ...], int] = {}
    order: dict[str, tuple[int, ...]] = {}
    cleaned = 0
    for index, feed in enumerate(parsed.feeds):
        url = (feed.get("url") or "").strip()
        problem = url_problem(url)
        if problem:
            skipped[problem] += 1
            continue
        if url in known_feeds:
            skipped["already in the config"] += 1
            continue
        raw_name = feed.get("title") or ""
        name = clean(raw_name) or None
        cleaned += name is not None and name != " ".join(raw_name.split())
        paths = [tuple(p for p in (clean(step) for step in steps) if p) for steps in feed.get("categories") or []]
        for steps in dict.fromkeys(p for p in paths if p) or [()]:
            topic_name = clean(FOLDER_JOIN.join(steps)) or unfiled_name
            key = topic_name.casefold()  # "News" and "news" would read as one heading twice
            topics.setdefault(key, ImportedTopic(topic_name)).add(url, name)
            place = tuple(first_seen.setdefault(steps[:i + 1], index) for i in range(len(steps))) or (index,)
            order.setdefault(key, place)
    if not topics:
        reasons = f" ({_reasons(skipped)})" if skipped else ""
        raise OpmlError(path, f"lists no feed that can be imported{reasons}.",
                        "check the file is your reader's subscription export (OPML) and has feeds in it.")
    listed = [topics[key] for key in sorted(topics, key=order.__getitem__)]
    renamed = _rename_taken(listed, config)
    # The config as the user named it (-c newsletter.toml), for the header's append line.
    given = Path(config._given or config.path) if config else None
    return Imported(path, title, listed, skipped, renamed, cleaned, given)


def _written_url(entry) -> str:
    return entry if isinstance(entry, str) else entry.url


def _rename_taken(topics: list[ImportedTopic], config: Config | None) -> list[tuple[str, str]]:
    """A name the config has already is renamed "NAME (imported)": the config refuses two topics of one
    name, and an appended [[topics]] table cannot add feeds to one written earlier in the file."""
    if config is None:
        return []
    taken = {t.name.casefold() for t in config.topics} | {t.name.casefold() for t in topics}
    renamed: list[tuple[str, str]] = []
    for topic in topics:
        if topic.name.casefold() not in {t.name.casefold() for t in config.topics}:
            continue
        n, new = 1, topic.name + RENAMED
        while new.casefold() in taken:
            n += 1
            new = f"{topic.name} (imported {n})"
        taken.add(new.casefold())
        renamed.append((topic.name, new))
        topic.name = new
    return renamed
