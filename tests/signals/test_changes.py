"""A figure's confirmed value: what moves it, what is held until confirmed, what never moves it."""

from worker.config import FigureSettings
from worker.signals.changes import (
    DocumentRef,
    FigureReading,
    FigureState,
    judge,
    record_step,
)

INCREASE = FigureSettings(
    label="t", about="x", units=["troops"], tolerance=0.05, ignore=["planned"]
)
EXACT = FigureSettings(label="t", about="x", units=["troops"])


def reading(
    value: float,
    source: str = "a",
    qualifier: str = "exact",
    upper: float | None = None,
    day: int = 1,
    doc: str | None = None,
) -> FigureReading:
    document = doc or f"{source}-{value}-{day}"
    return FigureReading(
        value=value,
        upper=upper,
        qualifier=qualifier,
        quote=f"{value} troops",
        document=DocumentRef(id=document, source=source, published=f"2024-11-{day:02d}T00:00:00Z"),
        sources=(source,),
        documents=(document,),
    )


def run(settings: FigureSettings, *readings: FigureReading) -> tuple[list[str], FigureState]:
    """Feed readings in order; return the verdicts and the state after them."""
    state, verdicts = FigureState(), []
    for item in readings:
        verdict, state = judge(state, item, settings)
        verdicts.append(verdict)
    return verdicts, state


def test_first_report_then_increase_past_tolerance() -> None:
    verdicts, state = run(INCREASE, reading(10000), reading(10400, day=2), reading(11000, day=3))
    assert verdicts == ["first", "same", "changed"]
    assert state.confirmed is not None and state.confirmed.value == 11000


def test_the_same_value_from_another_outlet_adds_a_source_once() -> None:
    verdicts, state = run(
        INCREASE, reading(10000, "a"), reading(10000, "b", day=2), reading(10000, "b", day=3)
    )
    assert verdicts == ["first", "same", "same"]
    assert state.confirmed is not None and state.confirmed.sources == ("a", "b")


def test_a_projection_never_moves_the_figure_nor_freezes_it() -> None:
    # 2,000 → "could top 10,000" → 2,056 → 3,000: the projection is not a value.
    verdicts, state = run(
        EXACT,
        reading(2000),
        reading(10000, qualifier="planned", day=2),
        reading(2056, day=3),
        reading(3000, day=4),
    )
    assert verdicts == ["first", "ignored", "changed", "changed"]
    assert state.confirmed is not None and state.confirmed.value == 3000
    assert state.unconfirmed == ()


def test_a_far_jump_from_one_source_is_held_until_a_second_source_confirms() -> None:
    verdicts, state = run(
        EXACT, reading(2000, "a"), reading(10000, "b", day=2), reading(2100, "c", day=3)
    )
    assert verdicts == ["first", "held", "changed"]
    assert state.confirmed is not None and state.confirmed.value == 2100
    assert [c.value for c in state.unconfirmed] == [10000]
    verdict, state = judge(state, reading(10000, "d", day=4), EXACT)
    assert verdict == "confirmed"
    assert state.confirmed is not None and state.confirmed.value == 10000
    assert state.confirmed.sources == ("b", "d") and state.unconfirmed == ()


def test_a_copy_of_the_same_article_does_not_confirm_a_held_reading() -> None:
    _, state = run(EXACT, reading(2000, "a"), reading(10000, "b", day=2, doc="x"))
    verdict, state = judge(state, reading(10000, "c", day=2, doc="x"), EXACT)
    assert verdict == "held" and state.unconfirmed[0].sources == ("b", "c")
    assert state.confirmed is not None and state.confirmed.value == 2000


def test_a_later_consistent_reading_from_the_same_source_confirms() -> None:
    _, state = run(EXACT, reading(2000, "a"), reading(10000, "b", day=2))
    verdict, state = judge(state, reading(10400, "b", day=5), EXACT)
    assert verdict == "confirmed"
    assert state.confirmed is not None and state.confirmed.value == 10400


def test_a_lower_value_does_not_move_an_increase_figure() -> None:
    verdicts, _ = run(INCREASE, reading(10000), reading(9000, day=2))
    assert verdicts == ["first", "behind"]
    # Confirmed by two outlets, a far lower reading is only behind.
    verdicts, _ = run(
        INCREASE,
        reading(10000, "a"),
        reading(10000, "b", day=2),
        reading(3000, "c", day=3),
        reading(3100, "d", day=4),
    )
    assert verdicts == ["first", "same", "behind", "behind"]


def test_a_first_reading_that_was_an_outlier_is_corrected_when_two_others_agree() -> None:
    # "could top 10,000" misread as a count, first; then the real counts.
    verdicts, state = run(
        EXACT,
        reading(10000, "a"),
        reading(2056, "b", day=2),
        reading(2100, "c", day=3),
        reading(3000, "d", day=4),
    )
    assert verdicts == ["first", "held", "corrected", "changed"]
    assert state.confirmed is not None and state.confirmed.value == 3000
    assert [c.value for c in state.unconfirmed] == [10000]
    verdict, state = judge(state, reading(10000, "e", day=5), EXACT)
    assert verdict == "confirmed" and state.confirmed.sources == ("a", "e")


def test_decrease_and_change_directions() -> None:
    decrease = FigureSettings(label="t", about="x", units=["u"], alert="decrease")
    change = FigureSettings(label="t", about="x", units=["u"], alert="change", tolerance=0.1)
    assert run(decrease, reading(100), reading(90, day=2))[0][-1] == "changed"
    assert run(decrease, reading(100), reading(120, day=2))[0][-1] == "behind"
    assert run(decrease, reading(100), reading(40, day=2))[0][-1] == "held"
    assert run(change, reading(100), reading(85, day=2))[0][-1] == "changed"
    assert run(change, reading(100), reading(115, day=2))[0][-1] == "changed"
    assert run(change, reading(100), reading(105, day=2))[0][-1] == "same"


def test_an_older_article_never_moves_a_change_figure_backwards() -> None:
    change = FigureSettings(label="t", about="x", units=["u"], alert="change")
    verdicts, state = run(change, reading(100, day=1), reading(80, day=5), reading(90, day=3))
    assert verdicts == ["first", "changed", "late"]
    assert state.confirmed is not None and state.confirmed.value == 80


def test_ranges_compare_by_their_upper_end_when_increasing() -> None:
    verdicts, state = run(INCREASE, reading(10000), reading(11000, upper=12000, day=2))
    assert verdicts == ["first", "changed"]
    assert state.confirmed is not None and state.confirmed.upper == 12000
    assert state.confirmed.shown() == "11,000–12,000"


def test_history_is_in_publication_order_and_late_repeats_add_their_source() -> None:
    history: list = []
    state = FigureState()
    for item in (reading(2000, "a", day=1), reading(3000, "b", day=4), reading(2000, "c", day=2)):
        before = state
        verdict, state = judge(state, item, INCREASE)
        history = record_step(history, verdict, before, state, item, INCREASE) or history
    assert [(s.reading.value, s.reading.sources, s.previous) for s in history] == [
        (2000, ("a", "c"), None),
        (3000, ("b",), 2000),
    ]


def test_a_late_larger_reading_still_moves_an_increase_figure() -> None:
    verdicts, state = run(
        INCREASE, reading(2000, day=1), reading(3000, day=5), reading(4000, "b", day=3)
    )
    assert verdicts == ["first", "changed", "changed"]
    assert state.confirmed is not None and state.confirmed.value == 4000
