"""The store's migrations: frozen DDL that, run in order from any version, gives today's tables."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import migrate_to, run_cli

from newsletter.migrations import MIGRATIONS, migrate
from newsletter.schema import metadata, schema_migrations
from newsletter.store import Store


def _columns(engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}


def test_a_new_store_has_exactly_the_tables_the_queries_use(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    Store.open(url).close()
    have = _columns(sa.create_engine(url))
    want = {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
    assert have == want


@pytest.mark.parametrize("version", sorted(MIGRATIONS)[:-1])
def test_a_store_left_at_any_version_upgrades_and_keeps_its_rows(tmp_path, version):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        migrate_to(conn, version)
        conn.execute(sa.text("INSERT INTO feeds (url, consecutive_failures, gone) VALUES ('https://a.example/feed', 2, 0)"))
    engine.dispose()

    store = Store.open(url)
    try:
        assert store.feed_states()["https://a.example/feed"].consecutive_failures == 2
        with store.engine.connect() as conn:
            done = [r[0] for r in conn.execute(sa.select(schema_migrations.c.version).order_by("version"))]
        assert done == sorted(MIGRATIONS)
    finally:
        store.close()
    want = {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
    assert _columns(sa.create_engine(url)) == want


def test_migrating_twice_does_nothing_the_second_time(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'twice.db'}")
    with engine.begin() as conn:
        assert migrate(conn) == sorted(MIGRATIONS)
    with engine.begin() as conn:
        assert migrate(conn) == []


def test_an_old_store_is_upgraded_on_open_with_a_log_line(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        migrate_to(conn, sorted(MIGRATIONS)[-2])
    engine.dispose()
    with caplog.at_level("INFO", logger="newsletter.store"):
        Store.open(url).close()
        Store.open(url).close()  # up to date: nothing to say
    [line] = [r.getMessage() for r in caplog.records]
    assert line == (f"upgraded the store {tmp_path / 'old.db'} from schema version {sorted(MIGRATIONS)[-2]} "
                    f"to {max(MIGRATIONS)}")


def test_a_store_from_a_newer_release_is_refused_naming_the_key_and_the_fix(minimal_config, tmp_path):
    url = f"sqlite:///{tmp_path / 'var' / 'newsletter.db'}"
    (tmp_path / "var").mkdir()
    Store.open(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # a later release's migration, run by a newer newsletter on this store
        conn.execute(schema_migrations.insert().values(version=max(MIGRATIONS) + 1, applied_at=sa.func.now()))
    engine.dispose()
    minimal_config.write_text(minimal_config.read_text() + '\n[store]\nurl = "var/newsletter.db"\n')
    result = run_cli("send", "--config", str(minimal_config), cwd=tmp_path)
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert f"[store] url: cannot use the store 'var/newsletter.db': it was written by a newer release " \
           f"(schema version {max(MIGRATIONS) + 1}; this one knows up to {max(MIGRATIONS)})" in said
    assert "Fix: upgrade newsletter" in said
    assert "Traceback" not in said
