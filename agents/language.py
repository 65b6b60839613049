"""Is the message in a language the offline brain cannot read? Then it must not act on it.

The understanding is trained on English; a Spanish "cancela mi pedido" read by it is a
guess. So a message clearly in another language gets a short notice and the offer of a
person, and nothing else happens. "Clearly" means the detector (lingua, offline, a
small set of languages in its low-memory mode) is sure AND few words are English —
short or mixed messages ("hola! I want a refund") stay English.
"""

from __future__ import annotations

import re
from functools import lru_cache

ENGLISH = frozenset("""the a an i my me you your is are was were it to and of for in on with
please order orders refund cancel where when what how can want need not no yes hi hello
thanks this that we our do does did have has be will would could should item package
delivery money back return broken arrived still help get got from at by just it's i'm
don't want""".split())
NON_LATIN = re.compile(r"[\u0400-\u04ff\u0600-\u06ff\u0900-\u097f\u3040-\u30ff\u3400-\u9fff"
                       r"\uac00-\ud7af\u0e00-\u0e7f\u0590-\u05ff]")
NAMES = {"SPANISH": "Spanish", "FRENCH": "French", "GERMAN": "German", "ITALIAN": "Italian",
         "PORTUGUESE": "Portuguese", "DUTCH": "Dutch", "POLISH": "Polish", "TURKISH": "Turkish",
         "RUSSIAN": "Russian", "ARABIC": "Arabic", "CHINESE": "Chinese", "JAPANESE": "Japanese",
         "SWEDISH": "Swedish", "KOREAN": "Korean", "HINDI": "Hindi", "DANISH": "Danish",
         "ROMANIAN": "Romanian"}


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    languages = [Language.ENGLISH] + [getattr(Language, name) for name in NAMES]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


# Common words of the nearby languages: two of them and no English make a short message clear.
FOREIGN_HINTS = frozenset("""mi mis por favor quiero pedido el la los las de del que es una un
gracias hola je ma mon mes veux voudrais commande est pour merci bonjour ich meine mein bitte
bestellung möchte und nicht danke il mio mia vorrei ordine grazie per non o meu minha quero
obrigado pedido ik mijn wil bestelling alstublieft niet jag min vill tack""".split())


def foreign_language(text: str) -> str | None:
    """The language's name when the message is clearly not English, else None."""
    from agents.order_linking import ascii_digits

    text = ascii_digits(text)
    words = re.findall(r"[^\W\d_]+", text.lower())
    if not words:
        return None
    non_latin = len(NON_LATIN.findall(text))
    english = sum(w in ENGLISH for w in words) / len(words)
    hints = sum(w in FOREIGN_HINTS for w in words)
    if non_latin < 2 and (len(words) < 3 or english >= 0.3):
        return None
    if non_latin < 2 and english == 0 and hints >= 2 and len(words) <= 4:
        values = _detector().compute_language_confidence_values(text)
        top = values[0] if values else None
        if top is not None and top.language.name != "ENGLISH":
            return _name(top)
    values = _detector().compute_language_confidence_values(text)
    top = values[0] if values else None
    if top is None or top.language.name == "ENGLISH":
        return None
    if (non_latin >= 2 or top.value >= 0.9 or (english < 0.1 and len(words) >= 4)
            or (english == 0 and top.value >= 0.5)):
        return _name(top)
    return None


def _name(top) -> str:
    """The language's name when the detector is sure of it, else "another language"."""
    return NAMES.get(top.language.name, "another language") if top.value >= 0.9 else \
        "another language"


def english_share(text: str) -> float:
    words = re.findall(r"[^\W\d_]+", text.lower())
    return sum(w in ENGLISH for w in words) / len(words) if words else 0.0


# "Yes" in the languages above, for the answer to "shall I pass this to a person?".
YES_WORDS = frozenset("""yes yeah yep sure ok okay please si sí sì oui ja jawohl sim da tak evet
hai はい 是 是的 好 네 예 نعم да ja graag prego por""".split())


def says_yes(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", text.lower())
    return bool(words) and words[0] in YES_WORDS
