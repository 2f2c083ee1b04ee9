import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.signals.numbers import parse_number, read_quantities


def values(sentence: str, language: str) -> list[tuple[float, float | None, str]]:
    return [(q.value, q.upper, q.qualifier) for q in read_quantities(sentence, language)]


@pytest.mark.parametrize(
    ("sentence", "language", "expected"),
    [
        # Indonesian
        ("sekitar 10.000 tentara", "id", [(10000, None, "about")]),
        ("2,6 juta orang mengungsi", "id", [(2_600_000, None, "exact")]),
        ("sepuluh ribu tentara", "id", [(10000, None, "exact")]),
        ("hampir 200 orang", "id", [(200, None, "nearly")]),
        ("lebih dari 600.000 tentara", "id", [(600000, None, "more than")]),
        ("setidaknya 200 rudal", "id", [(200, None, "at least")]),
        ("hingga 15.000 prajurit", "id", [(15000, None, "up to")]),
        ("11.000-12.000 tentara", "id", [(11000, 12000, "exact")]),
        ("antara 11.000 dan 12.000 tentara", "id", [(11000, 12000, "exact")]),
        ("Korea Utara berencana mengirim 5.000 tentara lagi", "id", [(5000, None, "planned")]),
        # English
        ("about 10,000 troops", "en", [(10000, None, "about")]),
        ("10.000 troops", "en", [(10, None, "exact")]),
        ("2.6 million people", "en", [(2_600_000, None, "exact")]),
        ("12k soldiers", "en", [(12000, None, "exact")]),
        ("1.5m refugees", "en", [(1_500_000, None, "exact")]),
        ("ten thousand soldiers", "en", [(10000, None, "exact")]),
        ("between 11,000 and 12,000 soldiers", "en", [(11000, 12000, "exact")]),
        ("11,000 to 12,000 soldiers", "en", [(11000, 12000, "exact")]),
        ("nearly 3,000 troops", "en", [(3000, None, "nearly")]),
        ("at least 200 missiles", "en", [(200, None, "at least")]),
        ("up to 100,000 soldiers", "en", [(100000, None, "up to")]),
        ("Pyongyang will send 5,000 more troops", "en", [(5000, None, "planned")]),
        # German
        ("rund 10.000 Soldaten", "de", [(10000, None, "about")]),
        ("mehr als 2,5 Millionen Menschen", "de", [(2_500_000, None, "more than")]),
        ("zehn Tausend Soldaten", "de", [(10000, None, "exact")]),
        ("Die Verluste sollen 38.000 Tote übersteigen", "de", [(38000, None, "more than")]),
        # French
        ("environ 10 000 soldats", "fr", [(10000, None, "about")]),
        ("plus de 1,2 million de personnes", "fr", [(1_200_000, None, "more than")]),
        ("dix mille soldats", "fr", [(10000, None, "exact")]),
        # Spanish
        ("unos 10.000 soldados", "es", [(10000, None, "about")]),
        ("casi 3 millones de personas", "es", [(3_000_000, None, "nearly")]),
        ("diez mil soldados", "es", [(10000, None, "exact")]),
        ("1,5 millón de personas", "es", [(1_500_000, None, "exact")]),
        ("con 4 mil 850 heridos", "es", [(4850, None, "exact")]),
        ("superó el miércoles los 2.800", "es", [(2800, None, "more than")]),
        ("pasó de 1.002 a 1.644 muertos", "es", [(1002, None, "exact"), (1644, None, "exact")]),
        ("the toll rose from 1,002 to 1,644", "en", [(1002, None, "exact"), (1644, None, "exact")]),
        ("from 3,000 to 3,500 people", "en", [(3000, 3500, "exact")]),
        ("between three and four thousand soldiers", "en", [(3000, 4000, "exact")]),
        ("ما بين ثلاثة وأربعة آلاف عسكري", "ar", [(3000, 4000, "exact")]),
        ("fünf Millionen Menschen", "de", [(5_000_000, None, "exact")]),
        ("2 milhões de pessoas", "pt", [(2_000_000, None, "exact")]),
        # Russian
        ("около 10 000 военных", "ru", [(10000, None, "about")]),
        ("более 600 тысяч военных", "ru", [(600000, None, "more than")]),
        ("десять тысяч солдат", "ru", [(10000, None, "exact")]),
        # Day-first dates: the count after "28 марта" is not its day
        ("28 марта 144 человека погибли", "ru", [(144, None, "exact")]),
        ("28 березня 144 людини загинули", "uk", [(144, None, "exact")]),
        ("March 28 saw heavy losses", "en", []),
    ],
)
def test_numbers_in_six_languages(
    sentence: str, language: str, expected: list[tuple[float, float | None, str]]
) -> None:
    assert values(sentence, language) == expected


@pytest.mark.parametrize(
    ("sentence", "language"),
    [
        ("Ahn Chan-il, seorang pembelot berusia 69 tahun", "id"),
        ("sejak Perang Dunia II pada bulan Agustus", "id"),
        ("on 28 October 2024 at 14:05", "en"),
        ("pukul 14.05 WIB", "id"),
        ("for the 3rd time", "en"),
        ("untuk ke-2 kalinya", "id"),
        ("45% of voters", "en"),
        ("naik 12 persen", "id"),
        ("call +62 21 555 1234", "en"),
        ("in 2024 and 1950", "en"),
        ("ribuan tentara Korea Utara", "id"),
        ("F-16 jets and Su-35s", "en"),
        ("am 3. November", "de"),
        ("a 10-year-old boy", "en"),
    ],
)
def test_ages_dates_years_times_ordinals_percentages_phones_names_are_not_figures(
    sentence: str, language: str
) -> None:
    assert values(sentence, language) == []


LOCALES = ["id", "en", "de", "fr", "es", "ru", "pt", "it"]


@settings(max_examples=300, deadline=None)
@given(number=st.integers(min_value=0, max_value=10**12), locale=st.sampled_from(LOCALES))
def test_formatting_in_a_locale_and_reading_back_returns_the_number(
    number: int, locale: str
) -> None:
    text = format_decimal(number, locale=locale)
    assert parse_number(text, locale) == number


@settings(max_examples=300, deadline=None)
@given(
    number=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    locale=st.sampled_from(LOCALES),
)
def test_decimals_round_trip(number: object, locale: str) -> None:
    text = format_decimal(number, locale=locale, format="#,##0.00")
    assert parse_number(text, locale) == pytest.approx(float(number))  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(number=st.integers(min_value=1000, max_value=10**9), locale=st.sampled_from(LOCALES))
def test_a_formatted_number_in_a_sentence_is_read_with_its_unit(number: int, locale: str) -> None:
    sentence = f"x {format_decimal(number, locale=locale)} tentara"
    quantities = read_quantities(sentence, locale)
    assert [(q.value, q.unit) for q in quantities] == [(number, "tentara")]


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_the_reader_never_crashes_on_arbitrary_text(text: str) -> None:
    for quantity in read_quantities(text, "id"):
        assert quantity.value >= 0
