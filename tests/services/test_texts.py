"""Issue 14, item 2: built-in texts in the 24 official EU languages, every key complete,
placeholders kept, no English left in the others, and staff texts overriding per key."""

import json
import re
import string

import pytest

from cmp_server.services.texts import (
    BUILT_IN_LANGUAGES,
    TEXT_KEYS,
    TRANSLATIONS,
    built_in_texts,
    texts_for,
)

EU_LANGUAGES = {
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
}  # fmt: skip
OTHERS = sorted(EU_LANGUAGES - {"en"})

# Where a language really says it as English does: the loanword "Cookies" (German, Danish,
# Dutch, Spanish, Portuguese, Greek, Maltese write it so) and "OK" (a word of its own in most
# of them), and Dutch, which calls trackers "trackers".
SAME_AS_ENGLISH = {"kind_cookie", "notice_ok", "nl:trackers"}
# The name of the signal (globalprivacycontrol.org), kept as such in every language.
PROPER_NAMES = ("Global Privacy Control",)
ENGLISH_WORDS = re.compile(
    r"\b(the|your|you|and|with|our|this|could|nothing|consent|settings|refuse|accept|allow"
    r"|choices|share|sell|erase|withdraw|history|purpose|device|measure)\b",
    re.IGNORECASE,
)


def placeholders(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def test_the_built_in_languages_are_the_24_official_eu_languages():
    assert set(BUILT_IN_LANGUAGES) == EU_LANGUAGES
    assert {p.stem for p in TRANSLATIONS.glob("*.json")} == EU_LANGUAGES


@pytest.mark.parametrize("language", sorted(EU_LANGUAGES))
def test_every_key_is_given_and_nothing_else(language):
    texts = json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))
    assert list(texts) == list(TEXT_KEYS), "same keys, in the order of TEXT_KEYS"
    for key, text in texts.items():
        assert isinstance(text, str) and text.strip() == text and text, (language, key)
        assert not re.search(r"[\x00-\x1f\x7f]", text), (language, key)


@pytest.mark.parametrize("language", OTHERS)
def test_placeholders_are_the_english_ones(language):
    english, texts = built_in_texts("en"), built_in_texts(language)
    for key in TEXT_KEYS:
        assert placeholders(texts[key]) == placeholders(english[key]), (language, key)


@pytest.mark.parametrize("language", OTHERS)
def test_no_english_is_left_in_another_language(language):
    english, texts = built_in_texts("en"), built_in_texts(language)
    for key in TEXT_KEYS:
        text = texts[key]
        if key not in SAME_AS_ENGLISH and f"{language}:{key}" not in SAME_AS_ENGLISH:
            assert text != english[key], f"{language}.{key} is the English text"
        for name in PROPER_NAMES:
            text = text.replace(name, "")
        assert not ENGLISH_WORDS.search(text), f"{language}.{key}: {texts[key]!r}"


@pytest.mark.parametrize("language", sorted(EU_LANGUAGES))
def test_the_first_layer_says_refuse_and_change_your_mind(language):
    """CNIL/EDPB: the first layer names the purposes, offers refusal beside acceptance, and
    says the choice can be changed at any time. Every description is a full paragraph of
    at least two sentences, and accept and refuse are both given, and differ."""
    texts = built_in_texts(language)
    assert texts["accept_all"] != texts["reject_all"]
    assert len(re.findall(r"[.!?;。](\s|$)", texts["description"])) >= 2, language
    assert len(texts["description"]) > 120, language


def test_staff_texts_override_per_key_and_empty_ones_do_not():
    texts = texts_for("de", {"title": "Cookies bei Beispiel GmbH", "reject_all": ""})
    assert texts["title"] == "Cookies bei Beispiel GmbH"
    assert texts["reject_all"] == "Alle ablehnen"
    assert set(texts) == set(TEXT_KEYS)


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("de-AT", "Wir respektieren Ihre Privatsphäre"),
        ("pt-BR", "Respeitamos a sua privacidade"),
        ("ja", "We value your privacy"),
    ],
)
def test_a_regional_tag_gets_its_language_and_an_unknown_one_english(language, title):
    texts = texts_for(language, None)
    assert texts["title"] == title
    assert set(texts) == set(TEXT_KEYS)
