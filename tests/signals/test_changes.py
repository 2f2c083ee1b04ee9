from worker.config import FigureSettings
from worker.signals.changes import judge
from worker.signals.figures import FigureObservation

INCREASE = FigureSettings(label="t", about="x", units=["troops"], tolerance=0.05,
                          ignore=["planned"])


def observe(value: float, qualifier: str = "exact", upper: float | None = None):
    return FigureObservation("f", value, upper, qualifier, f"{value} troops", 1)


def step(current, value, source="a", qualifier="exact", settings=INCREASE, upper=None):
    return judge(current, observe(value, qualifier, upper), settings, {"id": source}, source,
                 "2024-11-01T00:00:00Z")


def test_first_report_then_increase_past_tolerance() -> None:
    verdict, first = step(None, 10000)
    assert verdict == "first" and first is not None
    assert step(first, 10400)[0] == "same"          # within 5 %
    verdict, moved = step(first, 11000)
    assert verdict == "changed" and moved is not None and moved.value == 11000


def test_the_same_value_from_another_outlet_adds_a_source_once() -> None:
    _, first = step(None, 10000, source="a")
    verdict, again = step(first, 10000, source="b")
    assert verdict == "same" and again is not None and again.sources == ("a", "b")
    assert step(again, 10000, source="b")[1] == again


def test_ignored_qualifiers_never_move_the_figure() -> None:
    _, first = step(None, 10000)
    verdict, after = step(first, 50000, qualifier="planned")
    assert verdict == "ignored" and after == first


def test_a_lower_value_does_not_move_an_increase_figure() -> None:
    _, first = step(None, 10000)
    assert step(first, 3000)[0] == "behind"


def test_decrease_and_change_directions() -> None:
    decrease = FigureSettings(label="t", about="x", units=["u"], alert="decrease")
    change = FigureSettings(label="t", about="x", units=["u"], alert="change", tolerance=0.1)
    _, first = step(None, 100, settings=decrease)
    assert step(first, 90, settings=decrease)[0] == "changed"
    assert step(first, 120, settings=decrease)[0] == "behind"
    _, first = step(None, 100, settings=change)
    assert step(first, 85, settings=change)[0] == "changed"
    assert step(first, 115, settings=change)[0] == "changed"
    assert step(first, 105, settings=change)[0] == "same"


def test_ranges_compare_by_their_upper_end_when_increasing() -> None:
    _, first = step(None, 10000)
    verdict, moved = step(first, 11000, upper=12000)
    assert verdict == "changed" and moved is not None and moved.upper == 12000
