"""What reaches a terminal: feed text never drives it (no escape sequences, no bidi tricks)."""

from __future__ import annotations

from conftest import feeds_config, run_cli
from feeds_for_tests import item, rss

HOSTILE = "\x1b]0;owned\x07\x1b[2J\u202eTides\x08"


def test_fetch_and_check_tables_print_no_control_characters(tmp_path):
    feed = tmp_path / "hostile.xml"
    feed.write_text(rss(item(f"Harbour {HOSTILE} report", "https://tides.example/1", guid="t1"),
                        title=f"Tide {HOSTILE} Times"))
    cfg = feeds_config(tmp_path, [feed.name])
    for command in ("fetch", "check"):
        result = run_cli(command, "--config", str(cfg), cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
        printed = result.stdout + result.stderr
        assert "Tide" in printed and "Times" in printed  # the outlet is shown...
        assert not any(c in printed for c in "\x1b\x07\x08\u202e")  # ...without the codes that drive a terminal


def test_the_table_escapes_what_the_parser_would_not_see():
    from newsletter.console import shown

    assert shown("feed \x1b[2J \u202e [bold]x[/]") == "feed \\x1b[2J \\u202e \\[bold]x\\[/]"
