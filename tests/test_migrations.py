"""The store's migrations: frozen DDL that, run in order from any version, gives today's tables."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import migrate_to

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
