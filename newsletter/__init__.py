"""newsletter: multi-source news briefings from RSS/Atom feeds, delivered by email.

The pipeline flows one way::

    FeedSource -> Article -> Story -> Briefing -> Issue -> RenderedEmail -> Delivery

Each arrow is a stage module (``ingest``, ``group``, ``rank``, ``summarize``,
``render``, ``deliver``); ``pipeline`` wires them, ``cli`` is the front door.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
