from tests.signals.test_seed import ENV, ROOT
from worker.config import TopicSettings, load_config
from worker.text import fold, mentions
from worker.topics import is_relevant

TOPIC = load_config(ROOT / "config", env=ENV).topics["nk-troops-russia"]


def test_names_match_case_and_diacritic_insensitively_on_word_boundaries() -> None:
    assert fold("ZELENSKÝ Moskóv") == "zelensky moskov"
    assert mentions(fold("Pasukan KOREA UTARA tiba"), ["Korea Utara"])
    assert mentions(fold("troops of North-Korea"), ["North Korea"])
    assert not mentions(fold("Koreanya utara"), ["Korea Utara"])
    assert not mentions(fold("Russians"), ["Russia"])  # a word boundary, not a prefix


def test_relevance_needs_every_group_in_any_language() -> None:
    assert is_relevant("Северная Корея направила войска в Россию.", TOPIC)
    assert is_relevant("La Corée du Nord envoie des soldats en Russie.", TOPIC)
    assert is_relevant("Nordkorea schickt Soldaten nach Russland.", TOPIC)
    assert not is_relevant("North Korea tested a missile over the sea of Japan.", TOPIC)
    assert is_relevant("Troops are moving.", TOPIC, title="Pyongyang sends troops to Kursk")


def test_a_document_can_belong_to_several_topics() -> None:
    other = TopicSettings(
        id="ukraine-war",
        title="War in Ukraine",
        relevance={"all": [{"any": ["Ukraina", "Ukraine"]}]},
    )
    text = "Korea Utara mengirim pasukan ke Rusia untuk berperang melawan Ukraina."
    assert is_relevant(text, TOPIC) and is_relevant(text, other)
