"""Canonical article links: one URL per article, whoever shared it and how.

Tracking parameters and fragments make the same article look like many;
dropping them lets the store and the grouper see one link.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Exact names, plus every utm_* (see _is_tracking).
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "li_fat_id",
    "mc_cid", "mc_eid", "_hsenc", "_hsmi", "hsctatracking", "mkt_tok", "igshid", "oly_anon_id", "oly_enc_id",
    "vero_id", "vero_conv", "rb_clickid", "s_cid", "ncid", "cmpid", "wt.mc_id", "at_medium", "at_campaign",
    "ref_src", "ref_url", "spm", "_ga", "_gl", "sr_share", "mbid",
})
_SAFE_SCHEMES = ("http", "https")


def _is_tracking(name: str) -> bool:
    n = name.lower()
    return n.startswith("utm_") or n in TRACKING_PARAMS


def canonical_link(url: str | None) -> str:
    """The link without tracking parameters or fragment; "" when it is not a usable http(s) URL.

    >>> canonical_link("HTTPS://Example.org:443/a?utm_source=x&id=7#top")
    'https://example.org/a?id=7'
    """
    if not url:
        return ""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in _SAFE_SCHEMES or not parts.hostname:
        return ""  # javascript:, data:, relative leftovers: nothing a reader should click
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets, or the port would read as part of it
    try:
        port = parts.port
    except ValueError:
        return ""
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        return ""  # credentials in a feed link are a trick, not a link
    query = ""
    if parts.query:
        kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
        query = urlencode(kept, doseq=True)
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    return urlunsplit((scheme, host, path, query, ""))


# arXiv's own feeds link one paper two ways: its API's Atom as http://arxiv.org/abs/2611.01234v2, its RSS
# listings as https://arxiv.org/abs/2611.01234. Old-style ids ("cond-mat/0601001v1") carry a version too.
_ARXIV_ABS = re.compile(r"(?:www\.|export\.)?arxiv\.org/abs/([a-z-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(?:v\d+)?/?",
                        re.I)


def same_piece(link: str) -> str:
    """What two canonical links to one piece have in common: the link without its scheme (a feed's
    http:// and another's https:// reach the same page), and an arXiv paper by its id, not its version.

    >>> same_piece("http://arxiv.org/abs/2611.01234v2") == same_piece("https://arxiv.org/abs/2611.01234")
    True
    """
    rest = link.split("://", 1)[-1]
    m = _ARXIV_ABS.fullmatch(rest)
    return f"arxiv:{m.group(1).lower()}" if m else rest
