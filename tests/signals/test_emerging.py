"""Emerging names are names (issue 12): the cases a first real run suggested are left out,
and on the labelled set in five languages at least 80 % of suggestions are real."""

import pytest

from bench.emerging import filtered, score, suggestions, topic
from worker.signals.emerging import emerging_names

PRECISION_FLOOR = 0.8  # bench/results/emerging.json


@pytest.fixture(scope="module")
def nk():
    return topic()


def names(text: str, language: str, settings, outlets=frozenset()) -> set[str]:
    return emerging_names(text, language, settings, outlets)


def test_days_months_agencies_possessives_and_sentence_starts_are_not_names(nk) -> None:
    text = (
        "Welcome to our live coverage. On Thursday, Russia's defence ministry said that "
        "Andrei Belousov met General Kim Yong Bok in Pyongyang, according to AFP and "
        "Reuters.\nMeanwhile, the CEO of OpenAI's partner said nothing in March. "
        "North Korea's army moved 10 KM east, Yonhap reported on Monday."
    )
    assert names(text, "en", nk) == {"Andrei Belousov", "Kim Yong Bok", "OpenAI"}


def test_day_and_month_names_in_other_languages(nk) -> None:
    text = (
        "Pada hari Kamis, Menteri Luar Negeri Korea Utara Choe Son Hui tiba di Moskow.\n"
        "Le jeudi 14 novembre, la Corée du Nord a envoyé des troupes en Russie."
    )
    assert names(text, "id", nk) == {"Choe Son Hui"}


def test_german_nouns_are_not_names_but_unknown_words_and_full_names_are(nk) -> None:
    text = (
        "Nach Angaben der Regierung sind Menschen gestorben. Das Erdbeben traf am "
        "Donnerstag die Region. Verteidigungsminister Boris Pistorius sagte, Pistorius "
        "sei besorgt. Russlands Armee und Nordkoreas Soldaten stehen in Kursk."
    )
    assert names(text, "de", nk) == {"Boris Pistorius", "Pistorius"}


def test_outlets_topic_words_and_the_ignore_list(nk) -> None:
    ignoring = nk.model_copy(
        update={"emerging": nk.emerging.model_copy(update={"ignore": ["Park Sun-won"]})}
    )
    text = (
        "Lawmaker Park Sun-won told Seoul Daily that North Korean Troops had moved.\n"
        "The agency said the Pentagon agreed, Global Wire reported."
    )
    assert names(text, "en", nk, frozenset({"Seoul Daily", "Global Wire"})) == {
        "Park Sun-won",
        "Pentagon",
    }
    assert names(text, "en", ignoring, frozenset({"Seoul Daily", "Global Wire"})) == {"Pentagon"}


def test_the_labelled_set_keeps_its_precision_and_none_of_the_listed_noise() -> None:
    result = score(suggestions(filtered))
    assert result["precision"] >= PRECISION_FLOOR, result
    assert result["listed_noise"] == [], result
    assert {"Kim Yong Bok", "Choe Son Hui", "Rustem Umerov"} <= set(result["names"])


def test_forms_of_a_name_already_suggested_are_the_same_entity() -> None:
    from worker.signals.emerging import same_entity

    assert same_entity("Belousov", "Andrei Belousov")
    assert same_entity("Andrei Belousova", "Belousov")
    assert not same_entity("Kim Jong Un", "Kim Yong Bok")
    assert not same_entity("Sergei Shoigu", "Sergei Lavrov")
    assert not same_entity("Andrei Belousov", "Pavel Belousov")


def test_the_calendar_names_file_matches_babel() -> None:
    # Written by `python -m worker.signals.emerging`; run it again after a Babel upgrade.
    from worker.signals.emerging import babel_calendar_names, calendar_names

    assert calendar_names() == babel_calendar_names()
    assert {"kamis", "thursday", "marz", "marzo"} <= calendar_names()
