"""The web side: the static archive of issues, and the small app that serves it with one-click unsubscribe.

    archive.write_archive(cfg, store, folder)   # index, a page per issue, feed.xml, feed.json
    tokens.unsubscribe_token(secret, newsletter, address)
    app.make_app(cfg, store, folder, secret)     # Starlette: the archive's files and /u/TOKEN

``archive`` and ``tokens`` need only Jinja2 and the standard library (``send`` uses them);
``app`` loads Starlette, for ``newsletter serve`` alone.
"""
