"""The bot's languages: which one a reply or a post is in, and its words, numbers and dates.

One gettext catalogue per language lives in `bot/i18n/locales/<code>.po` (Babel reads and
compiles them in memory when this module is imported; no build step). The language of the
moment is a context variable, as Red's i18n does it: the command tree sets it from the
interaction's `locale` before a command runs, the posters set it from the guild's language
before they format a post, and every formatting function simply calls `_()`.

Adding a language: write `bot/i18n/locales/<code>.po` (copy one, translate every msgstr) and add
one line to `LANGUAGES` below.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

LOCALES_DIR = Path(__file__).parent / "locales"


@dataclass(frozen=True)
class Language:
    code: str  # the bot's own code: /settings language's value, and the catalogue's name
    discord: tuple[str, ...]  # Discord locales answered in this language
    babel: str  # Babel's locale for numbers and dates
    catalogue: str | None  # file name in locales/ without .po; None: the source language


ENGLISH = Language("en", ("en-US", "en-GB"), "en", None)
# One line a language.
LANGUAGES: tuple[Language, ...] = (
    ENGLISH,
    Language("pt-BR", ("pt-BR",), "pt_BR", "pt_BR"),
    Language("es-ES", ("es-ES",), "es_ES", "es_ES"),
    Language("es-419", ("es-419",), "es_419", "es_419"),
    Language("fr", ("fr",), "fr", "fr"),
    Language("de", ("de",), "de", "de"),
)
_BY_DISCORD = {loc: lang for lang in LANGUAGES for loc in lang.discord}
_BY_CODE = {lang.code: lang for lang in LANGUAGES}

_current: contextvars.ContextVar[Language] = contextvars.ContextVar(
    "bot_language", default=ENGLISH
)


def _load(lang: Language) -> gettext.NullTranslations:
    if lang.catalogue is None:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(LOCALES_DIR / f"{lang.catalogue}.po", "rb") as po:
        catalog = read_po(po, locale=lang.babel)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


_TRANSLATIONS: dict[str, gettext.NullTranslations] = {}


def translations(lang: Language) -> gettext.NullTranslations:
    found = _TRANSLATIONS.get(lang.code)
    if found is None:
        found = _TRANSLATIONS[lang.code] = _load(lang)
    return found


def language_for(locale: object) -> Language:
    """The language of a Discord locale (discord.Locale or its string); English when not ours."""
    value = str(getattr(locale, "value", locale) or "")
    return _BY_DISCORD.get(value) or _BY_CODE.get(value) or ENGLISH


def current() -> Language:
    return _current.get()


def set_language(lang: Language) -> None:
    """Set the language for the rest of this task (an interaction's handling)."""
    _current.set(lang)


@contextlib.contextmanager
def using(lang: Language) -> Iterator[None]:
    """Format in `lang` inside the block (a post for one guild)."""
    token = _current.set(lang)
    try:
        yield
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """`message` in the current language. Placeholders are str.format names: `{name}`."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, by the current language's plural rule."""
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` in the current language, disambiguated by `context`."""
    return translations(_current.get()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark a constant for extraction; translate it with `_()` where it is used."""
    return message
