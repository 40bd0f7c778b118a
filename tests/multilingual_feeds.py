"""Feeds in Urdu, Chinese, Hindi, Portuguese and German, each declaring its language another way.

Every outlet, town and event here is FICTIONAL, invented for these tests. Each feed carries one
invented event; the German one is a podcast feed whose entries end with its host's notices.

    FEEDS["ur"].rss()            # the feed's bytes
    FEEDS["pt"].headers          # the HTTP headers it is served with
    FEEDS["de"].sentences        # every real sentence of its entries (what a bullet may be)
    CHINESE_SECOND               # another outlet's report of the Chinese feed's event
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import datetime, timezone
from xml.sax.saxutils import escape

PUBLISHED = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


@dataclass
class Item:
    guid: str
    title: str
    sentences: list[str]  # the entry's text, one real sentence each
    tail: list[str] = field(default_factory=list)  # what the publisher appends: never a bullet

    @property
    def text(self) -> str:
        return " ".join(self.sentences + self.tail)


@dataclass
class Feed:
    slug: str
    outlet: str
    items: list[Item]
    language: str  # what the text is written in
    rss_language: str | None = None  # <language> in the channel
    atom_lang: str | None = None  # xml:lang on an Atom feed element (then the feed is Atom)
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/rss+xml; charset=utf-8"})
    joiner: str = " "  # between sentences: Chinese writes none

    @property
    def sentences(self) -> list[str]:
        return [s for item in self.items for s in item.sentences]

    def text(self, item: Item) -> str:
        return self.joiner.join(item.sentences + item.tail)

    def rss(self) -> bytes:
        if self.atom_lang is not None:
            return self._atom()
        lang = f"<language>{self.rss_language}</language>" if self.rss_language else ""
        items = "".join(
            f"<item><guid>{i.guid}</guid><title>{escape(i.title)}</title>"
            f"<link>https://{self.slug}.example/{i.guid}</link><pubDate>{format_datetime(PUBLISHED)}</pubDate>"
            f"<description>{escape(self.text(i))}</description></item>" for i in self.items)
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(self.outlet)}'
                f"</title><link>https://{self.slug}.example/</link>{lang}{items}</channel></rss>").encode()

    def _atom(self) -> bytes:
        entries = "".join(
            f"<entry><id>tag:{self.slug}.example,2026:{i.guid}</id><title>{escape(i.title)}</title>"
            f'<link href="https://{self.slug}.example/{i.guid}"/><updated>{PUBLISHED.isoformat()}</updated>'
            f'<content type="text">{escape(self.text(i))}</content></entry>' for i in self.items)
        return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
                f'xml:lang="{self.atom_lang}"><title>{escape(self.outlet)}</title><id>tag:{self.slug}.example,2026:feed'
                f'</id><updated>{PUBLISHED.isoformat()}</updated>{entries}</feed>').encode()


# Urdu, declared as American English (a CMS default left unchanged): the text says otherwise.
URDU = Feed("roshan-nagar-akhbar", "Roshan Nagar Akhbar (fictional)", language="ur", rss_language="en-US", items=[
    Item("ur-1", "روشن نگر میں پرانا لکڑی کا پل تین ماہ کے لیے بند", [
        "روشن نگر کی بلدیہ نے منگل کو شہر کا پرانا لکڑی کا پل تین ماہ کے لیے بند کرنے کا اعلان کیا۔",
        "انجینئروں کے مطابق پل کے دو ستونوں میں گہری دراڑیں پائی گئی ہیں۔",
        "مرمت پر تقریباً چالیس لاکھ روپے خرچ ہوں گے اور کام اگلے ہفتے شروع ہوگا۔",
        "کیا تاجر اس بندش سے متاثر ہوں گے؟",
        "بازار کے دکانداروں نے کہا کہ ان کی آمدنی آدھی رہ جائے گی۔",
    ]),
])

# Chinese, declared by xml:lang on an Atom feed; no spaces between sentences.
CHINESE = Feed("qingshui-ribao", "Qingshui Daily (fictional)", language="zh", atom_lang="zh-CN", joiner="", items=[
    Item("zh-1", "清水镇图书馆将全天开放", [
        "清水镇议会周二决定，镇图书馆从下个月起每天开放二十四小时。",
        "这项试点计划为期一年，预计每年花费八十万元。",
        "馆长表示，夜间开放主要是为了方便轮班工人和学生。",
        "“我们希望更多居民能在下班后来读书。”",
        "部分居民担心夜间安保费用会挤占购书预算。",
    ]),
])

# Hindi, declaring nothing: the text decides.
HINDI = Feed("sonpur-samachar", "Sonpur Samachar (fictional)", language="hi", items=[
    Item("hi-1", "सोनपुर में नई इलेक्ट्रिक बस सेवा शुरू", [
        "सोनपुर नगर निगम ने सोमवार को शहर में बारह नई इलेक्ट्रिक बसें चलाना शुरू किया।",
        "पहले महीने में यात्रियों से कोई किराया नहीं लिया जाएगा।",
        "अधिकारियों के अनुसार इससे हर साल लगभग तीन सौ टन डीज़ल की बचत होगी।",
        "कुछ दुकानदारों ने शिकायत की कि नए बस अड्डे के कारण बाज़ार में भीड़ बढ़ गई है।",
    ]),
])

# Portuguese, declared only by the HTTP Content-Language header. The second item is one sentence long.
PORTUGUESE = Feed("gazeta-de-vila-serena", "Gazeta de Vila Serena (fictional)", language="pt",
                  headers={"Content-Type": "application/rss+xml; charset=utf-8", "Content-Language": "pt-BR"}, items=[
    Item("pt-1", "Vila Serena aprova novo parque à beira do rio", [
        "A câmara municipal de Vila Serena aprovou na terça-feira a construção de um parque de doze hectares à beira do rio.",
        "As obras devem custar cerca de nove milhões de reais e começar em março.",
        "Moradores do bairro ribeirinho pediram o parque durante mais de dez anos.",
        "A oposição criticou a falta de estacionamento previsto no projeto.",
    ], tail=["Leia mais.", "O post Vila Serena aprova novo parque apareceu primeiro em Gazeta de Vila Serena."]),
    Item("pt-2", "Feira do livro de Vila Serena adiada", [
        "A feira do livro de Vila Serena foi adiada para abril por causa das chuvas fortes.",
    ]),
])

# German, a podcast feed declaring de-DE, whose host appends its notices to every entry.
GERMAN = Feed("neuheimer-hoerfunk", "Neuheimer Hörfunk (fictional)", language="de", rss_language="de-DE", items=[
    Item("de-1", "Neuheim sperrt die alte Holzbrücke", [
        "Die Stadt Neuheim sperrt die alte Holzbrücke über die Lauter ab Montag für alle Fahrzeuge.",
        "Bei einer Prüfung hatten Ingenieure morsche Balken in zwei Pfeilern gefunden.",
        "Die Reparatur soll vier Monate dauern und rund 1,2 Millionen Euro kosten.",
        "Händler in der Altstadt befürchten, dass ihnen die Kundschaft vom anderen Ufer fehlen wird.",
        "Der Bürgermeister sprach von einer schweren, aber unvermeidlichen Entscheidung.",
    ], tail=["See omnystudio.com/listener for privacy information.",
             "Abonnieren Sie unseren Podcast, um keine Folge zu verpassen.",
             "Folgen Sie uns auf allen Kanälen."]),
])

FEEDS = {f.language: f for f in (URDU, CHINESE, HINDI, PORTUGUESE, GERMAN)}

# A second Chinese outlet reporting Qingshui's library in its own words: with CHINESE, one story of two sources.
CHINESE_SECOND = Feed("baiyun-wanbao", "Baiyun Evening News (fictional)", language="zh", atom_lang="zh-CN", joiner="",
                      items=[
    Item("zh-2", "清水镇图书馆下月起二十四小时开放", [
        "从下个月开始，清水镇图书馆将每天二十四小时向公众开放。",
        "镇议会在周二的会议上通过了这项为期一年的试点计划。",
        "试点每年预计花费八十万元，主要用于夜班人员和安保。",
        "图书馆馆长说，轮班工人和学生最需要一个夜间读书的地方。",
    ]),
])
