"""`newsletter feeds import FILE.opml`: another reader's subscriptions as [[topics]] tables to append.

Each OPML here is written as a reader exports it (Feedly's folders, rss2email's flat list, nested
folders), or as an attacker would; the outlets are invented. What the user sees is asserted: the
TOML on stdout, appended to a config the test writes and loaded with the project's own loader, and
the summary or the one error line on stderr.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MINIMAL, run_cli, write_config

from newsletter.config import FeedEntry, load_config

FEEDLY = """\
<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Mara subscriptions in feedly Cloud</title></head>
  <body>
    <outline text="Tech" title="Tech">
      <outline type="rss" text="Copperfield Tech" title="Copperfield Tech"
               xmlUrl="https://copperfield.example/feed" htmlUrl="https://copperfield.example/"/>
      <outline type="rss" text="Valmere &quot;Ledger&quot; \\ [[x]]" title="Valmere Ledger"
               xmlUrl="https://valmere.example/rss" htmlUrl="https://valmere.example/"/>
    </outline>
    <outline text="Climate" title="Climate">
      <outline type="rss" text="Northwind Courier" title="Northwind Courier" xmlUrl="https://northwind.example/atom"/>
    </outline>
    <outline type="rss" text="Eastbay Signal" title="Eastbay Signal" xmlUrl="http://eastbay.example/feed.xml"/>
  </body>
</opml>
"""

RSS2EMAIL = """\
<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
<head>
<title>rss2email OPML export</title>
</head>
<body>
<outline type="rss" text="harborline" xmlUrl="https://harborline.example/rss.xml"/>
<outline type="rss" text="quillmoor-blog" xmlUrl="https://quillmoor.example/blog/index.atom"/>
</body>
</opml>
"""

NESTED = """\
<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>NetNewsWire Subscriptions</title></head>
  <body>
    <outline text="Science">
      <outline type="rss" text="Lab Notes" xmlUrl="https://labnotes.example/feed"/>
      <outline text="Physics">
        <outline type="rss" text="Quark Times" xmlUrl="https://quark.example/atom"/>
        <outline text="Optics">
          <outline type="rss" text="Lens Weekly" xmlUrl="https://lens.example/rss"/>
        </outline>
      </outline>
    </outline>
    <outline text="Arts"><outline type="rss" text="Gallery Row" xmlUrl="https://galleryrow.example/feed"/></outline>
  </body>
</opml>
"""

DUPLICATES = """\
<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Inoreader Subscriptions</title></head>
  <body>
    <outline text="News">
      <outline type="rss" text="Daily Tern" xmlUrl="https://tern.example/feed"/>
      <outline type="rss" text="Daily Tern (again)" xmlUrl="https://tern.example/feed"/>
      <outline type="rss" text="Moorland Post" xmlUrl="https://moorland.example/rss"/>
    </outline>
    <outline text="Local">
      <outline type="rss" text="Daily Tern" xmlUrl="https://tern.example/feed"/>
    </outline>
    <outline text="Web pages">
      <outline type="link" text="Tern homepage" htmlUrl="https://tern.example/"/>
    </outline>
    <outline text="Empty folder"/>
  </body>
</opml>
"""

# What XML 1.0 lets through: C1 controls (U+009B is a terminal's CSI), bidi overrides, line breaks as
# character references. Raw C0 controls such as ESC are not XML at all (see the malformed tests).
HOSTILE = """\
<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Free feeds&#10;[newsletter]&#10;to = ["attacker@evil.example"]</title></head>
  <body>
    <outline text="Tips&#10;[[topics]]&#10;name = &quot;x&quot;">
      <outline type="rss" text="\u009b31mRed\u202eevil" xmlUrl="https://tips.example/feed"/>
      <outline type="rss" text="Run me" xmlUrl="javascript:alert(document.cookie)"/>
      <outline type="rss" text="Passwords" xmlUrl="file:///etc/passwd"/>
      <outline type="rss" text="Inline" xmlUrl="data:application/rss+xml;base64,PHJzcz4="/>
      <outline type="rss" text="Local path" xmlUrl="../../../etc/shadow"/>
      <outline type="rss" text="Spaced" xmlUrl="https://bad host.example/feed"/>
      <outline type="rss" text="Huge" xmlUrl="https://huge.example/{long}"/>
      <outline type="rss" text="{title}" xmlUrl="https://long-title.example/feed"/>
    </outline>
  </body>
</opml>
""".replace("{long}", "a" * 3000).replace("{title}", "Breaking " * 500)


def opml(folder: Path, text: str, name: str = "subs.opml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def config(folder: Path, body: str = MINIMAL) -> Path:
    (folder / "feed.xml").write_text("<rss version='2.0'><channel><title>T</title></channel></rss>")
    return write_config(folder, body)


def run_import(folder: Path, source: Path, *args: str):
    return run_cli("feeds", "import", str(source), *args, cwd=folder)


def appended(cfg_path: Path, toml: str):
    """The config as `>> newsletter.toml` leaves it, loaded by the project's own loader."""
    with cfg_path.open("a", encoding="utf-8") as f:
        f.write(toml)
    return load_config(cfg_path)


def feeds_of(topic) -> list[tuple[str, str | None]]:
    return [(f.url, f.name) if isinstance(f, FeedEntry) else (f, None) for f in topic.feeds]


def one_error(result, *words: str) -> str:
    """A refusal as the user sees it: exit 2, one line on stderr naming the file and the fix, no TOML."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    said = result.stderr.strip()
    assert said.startswith("error: ") and "\n" not in said and "Traceback" not in said and "Fix: " in said, said
    for word in words:
        assert word in said, said
    return said


def test_feedly_folders_become_topics_named_after_them_and_the_result_loads(tmp_path):
    cfg_path = config(tmp_path)  # MINIMAL has a topic "Tech" already, as Feedly's list does
    result = run_import(tmp_path, opml(tmp_path, FEEDLY), "--config", str(cfg_path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("\n# Imported by `newsletter feeds import` from ")
    assert ('("Mara subscriptions in feedly Cloud"): 4 feeds in 3 topics.' in result.stdout.splitlines()[1])
    assert f"newsletter feeds import {tmp_path / 'subs.opml'} -c {cfg_path} >> {cfg_path}" in result.stdout
    assert "topic 'Tech' is already in newsletter.toml: imported as 'Tech (imported)'" in result.stderr
    assert "imported 4 feeds in 3 topics from " in result.stderr and "skipped" not in result.stderr

    cfg = appended(cfg_path, result.stdout)
    topics = {t.name: feeds_of(t) for t in cfg.topics}
    assert topics == {
        "Tech": [("feed.xml", None)],  # the user's own topic, untouched
        "Tech (imported)": [("https://copperfield.example/feed", "Copperfield Tech"),
                            ("https://valmere.example/rss", 'Valmere "Ledger" \\ [[x]]')],
        "Climate": [("https://northwind.example/atom", "Northwind Courier")],
        "Mara subscriptions in feedly Cloud": [("http://eastbay.example/feed.xml", "Eastbay Signal")],
    }
    assert cfg_path.read_text(encoding="utf-8").startswith(MINIMAL)  # appended to, nothing rewritten


def test_without_a_config_nothing_is_compared_and_the_tables_still_load(tmp_path):
    result = run_import(tmp_path, opml(tmp_path, FEEDLY))
    assert result.exit_code == 0, result.stderr
    assert "no --config given, so topic names were not compared with a config" in result.stderr
    assert ">> newsletter.toml" in result.stdout
    cfg = appended(config(tmp_path, MINIMAL.replace('name = "Tech"', 'name = "Mine"')), result.stdout)
    assert [t.name for t in cfg.topics] == ["Mine", "Tech", "Climate", "Mara subscriptions in feedly Cloud"]


def test_rss2email_flat_list_is_one_topic_named_after_the_list_or_as_asked(tmp_path):
    source = opml(tmp_path, RSS2EMAIL)
    result = run_import(tmp_path, source)
    assert result.exit_code == 0, result.stderr
    cfg = appended(config(tmp_path), result.stdout)
    assert [(t.name, feeds_of(t)) for t in cfg.topics[1:]] == [("rss2email OPML export", [
        ("https://harborline.example/rss.xml", "harborline"),
        ("https://quillmoor.example/blog/index.atom", "quillmoor-blog")])]

    named = run_import(tmp_path, source, "--topic", "Blogs")
    assert 'name = "Blogs"' in named.stdout and "rss2email OPML export" not in named.stdout.split("[[topics]]")[1]
    untitled = run_import(tmp_path, opml(tmp_path, RSS2EMAIL.replace("<title>rss2email OPML export</title>", ""),
                                         "untitled.opml"))
    assert 'name = "Feeds"' in untitled.stdout


def test_nested_folders_are_topics_named_by_their_path_parents_first(tmp_path):
    result = run_import(tmp_path, opml(tmp_path, NESTED))
    assert result.exit_code == 0, result.stderr
    cfg = appended(config(tmp_path), result.stdout)
    assert [(t.name, [u for u, _ in feeds_of(t)]) for t in cfg.topics[1:]] == [
        ("Science", ["https://labnotes.example/feed"]),
        ("Science / Physics", ["https://quark.example/atom"]),
        ("Science / Physics / Optics", ["https://lens.example/rss"]),
        ("Arts", ["https://galleryrow.example/feed"]),
    ]


def test_a_feed_twice_in_a_folder_comes_once_and_in_two_folders_in_both(tmp_path):
    result = run_import(tmp_path, opml(tmp_path, DUPLICATES))
    assert result.exit_code == 0, result.stderr
    cfg = appended(config(tmp_path), result.stdout)
    assert {t.name: feeds_of(t) for t in cfg.topics[1:]} == {
        "News": [("https://tern.example/feed", "Daily Tern"), ("https://moorland.example/rss", "Moorland Post")],
        "Local": [("https://tern.example/feed", "Daily Tern")],
    }
    # Distinct feeds are counted once however many topics list them; outlines with no feed are counted.
    assert ("imported 2 feeds in 2 topics from " in result.stderr
            and "skipped 2: 2 outlines without an xmlUrl" in result.stderr), result.stderr


def test_feeds_the_config_has_already_are_left_out_and_renames_do_not_collide(tmp_path):
    cfg_path = config(tmp_path, MINIMAL.replace('name = "Tech"', 'name = "News"')
                      .replace('feeds = ["feed.xml"]', 'feeds = ["feed.xml", "https://moorland.example/rss"]')
                      + '\n[[topics]]\nname = "news (imported)"\nfeeds = ["feed.xml"]\n')
    result = run_import(tmp_path, opml(tmp_path, DUPLICATES), "-c", str(cfg_path))
    assert result.exit_code == 0, result.stderr
    assert "imported as 'News (imported 2)'" in result.stderr and "1 already in the config" in result.stderr
    cfg = appended(cfg_path, result.stdout)
    assert {t.name: [u for u, _ in feeds_of(t)] for t in cfg.topics[2:]} == {
        "News (imported 2)": ["https://tern.example/feed"], "Local": ["https://tern.example/feed"]}


def test_hostile_opml_urls_are_refused_and_titles_cleaned(tmp_path):
    result = run_import(tmp_path, opml(tmp_path, HOSTILE))
    assert result.exit_code == 0, result.stderr
    cfg = appended(config(tmp_path), result.stdout)
    assert len(cfg.topics) == 2  # nothing injected: no [newsletter] table, no topic of the titles' making
    topic = cfg.topics[1]
    assert topic.name == 'Tips [[topics]] name = "x"'
    assert feeds_of(topic)[0] == ("https://tips.example/feed", "31mRedevil")
    url, name = feeds_of(topic)[1]
    assert url == "https://long-title.example/feed" and len(name) <= 100 and name.endswith("Breaking…")
    assert [u for u, _ in feeds_of(topic)] == ["https://tips.example/feed", "https://long-title.example/feed"]
    assert cfg.newsletter.to == ["reader@example.org"]
    # The comment header carries the list's title on one line: no line of it starts a table.
    header = result.stdout.split("[[topics]]")[0]
    assert all(line.startswith("#") or not line for line in header.splitlines()), header
    for said in ("skipped 6:", "1 not an http(s) URL (javascript:)", "1 not an http(s) URL (file:)",
                 "1 not an http(s) URL (data:)", "1 not an http(s) URL (a path)", "1 malformed URL",
                 "1 URL over 2,000 characters", "2 titles cleaned"):
        assert said in result.stderr, result.stderr
    assert "\x9b" not in result.stdout + result.stderr and "\u202e" not in result.stdout + result.stderr


def test_entities_are_not_expanded_so_a_list_cannot_read_local_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2-not-for-the-config")
    xxe = FEEDLY.replace('<opml version="1.0">',
                         f'<!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">]>\n<opml version="1.0">'
                         ).replace("Copperfield Tech\" title", "&x;\" title")
    result = run_import(tmp_path, opml(tmp_path, xxe))
    assert "hunter2" not in result.stdout + result.stderr


@pytest.mark.parametrize("body, words", [
    (FEEDLY[:400], ["subs.opml: is not well-formed XML (", "cut short", "export the subscription list again"]),
    ("", ["subs.opml: is empty."]),
    ("just some notes, not XML\n", ["is not well-formed XML"]),
    ("<rss version='2.0'><channel><title>T</title></channel></rss>",
     ["is XML but not OPML: its root element is <rss> (an RSS or Atom feed: put its URL in a topic's feeds instead)"]),
    ('<opml version="2.0"><head><title>Empty</title></head><body><outline text="Folder"/></body></opml>',
     ["lists no feed that can be imported (1 outline without an xmlUrl"]),
    ('<opml version="2.0"><body><outline text="x" xmlUrl="javascript:alert(1)"/></body></opml>',
     ["lists no feed that can be imported (1 not an http(s) URL (javascript:))"]),
    ('<opml version="2.0"><body><outline text="\x1b]0;pwned\x07" xmlUrl="https://a.example/f"/></body></opml>',
     ["is not well-formed XML"]),
])
def test_a_file_that_is_no_usable_opml_gets_one_message_naming_it_and_the_fix(tmp_path, body, words):
    one_error(run_import(tmp_path, opml(tmp_path, body)), *words)


def test_a_missing_file_or_a_folder_is_named_with_the_fix(tmp_path):
    one_error(run_import(tmp_path, tmp_path / "nope.opml"), "nope.opml: file not found.", "Fix: check the path")
    one_error(run_import(tmp_path, tmp_path), "is a folder, not a file.")


def test_another_encoding_than_utf8_is_read_as_the_file_declares(tmp_path):
    text = RSS2EMAIL.replace("UTF-8", "ISO-8859-1").replace('text="harborline"', 'text="Zoë\'s Café"')
    source = tmp_path / "latin1.opml"
    source.write_bytes(text.encode("latin-1"))
    result = run_import(tmp_path, source)
    assert result.exit_code == 0, result.stderr
    assert feeds_of(appended(config(tmp_path), result.stdout).topics[1])[0][1] == "Zoë's Café"


def test_a_config_with_inline_topics_cannot_take_the_tables_and_says_so(tmp_path):
    body = MINIMAL.replace('[[topics]]\nname = "Tech"\nfeeds = ["feed.xml"]\n', "")
    body = 'topics = [{ name = "Tech", feeds = ["feed.xml"] }]\n' + body
    cfg_path = config(tmp_path, body)
    assert load_config(cfg_path).topics[0].name == "Tech"
    one_error(run_import(tmp_path, opml(tmp_path, FEEDLY), "-c", str(cfg_path)),
              "newsletter.toml: the imported topics would not load appended to it", "[[topics]] tables")


def test_help_says_what_it_does_with_an_example():
    said = run_cli("feeds", "import", "--help")
    assert said.exit_code == 0
    assert "newsletter feeds import subs.opml -c newsletter.toml >> newsletter.toml" in said.stdout
    assert "Science / Physics" in said.stdout and "--topic" in said.stdout
    assert "feeds import" in run_cli("feeds", "--help").stdout


RSS = ("<?xml version='1.0'?><rss version='2.0'><channel><title>{name}</title><link>https://x.example/</link>"
       "<item><title>Lifeboat crew saves six</title><link>https://x.example/a</link>"
       "<pubDate>Tue, 24 Nov 2026 06:00:00 GMT</pubDate><description>Six were saved.</description></item>"
       "</channel></rss>")


def test_the_appended_config_passes_check(tmp_path, feed_server):
    """End to end as the README says: import with -c, append, `newsletter check` says config ok and every feed works."""
    urls = [feed_server.add(f"/{n}.xml", RSS.format(name=n), headers={"Content-Type": "application/rss+xml"})
            for n in ("alpha", "beta", "gamma")]
    source = opml(tmp_path, f"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Reader export</title></head><body>
  <outline text="Tech"><outline type="rss" text="Alpha" xmlUrl="{urls[0]}"/>
    <outline type="rss" text="Beta" xmlUrl="{urls[1]}"/></outline>
  <outline type="rss" text="Gamma" xmlUrl="{urls[2]}"/>
</body></opml>""")
    cfg_path = config(tmp_path)
    result = run_import(tmp_path, source, "-c", str(cfg_path))
    assert result.exit_code == 0, result.stderr
    appended(cfg_path, result.stdout)
    checked = run_cli("check", "--config", str(cfg_path), cwd=tmp_path)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert "config ok" in checked.stdout and "(3 topics, 4 feeds" in checked.stdout, checked.stdout
