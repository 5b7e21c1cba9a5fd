"""The best epoch and the overfitting flag, from epoch rows alone."""

from services.overfitting import EpochLosses, assess


def rows(*pairs: tuple[float | None, float | None]) -> list[EpochLosses]:
    return [EpochLosses(epoch, loss, val) for epoch, (loss, val) in enumerate(pairs)]


def test_the_best_epoch_has_the_lowest_validation_loss():
    verdict = assess(rows((2.3, 2.3), (0.5, 0.6), (0.3, 0.4), (0.2, 0.45)), patience=2)
    assert verdict.best_epoch == 2
    assert verdict.overfitting_since is None  # one rising epoch is not yet a trend


def test_overfitting_is_flagged_from_the_first_epoch_of_a_long_enough_rise():
    history = rows((2.3, 2.3), (0.5, 0.6), (0.3, 0.4), (0.2, 0.45), (0.1, 0.5), (0.05, 0.6))
    verdict = assess(history, patience=2)
    assert verdict.best_epoch == 2
    assert verdict.overfitting_since == 3
    assert assess(history, patience=3).overfitting_since == 3
    assert assess(history, patience=4).overfitting_since is None


def test_a_rise_while_training_loss_also_rises_is_not_overfitting():
    history = rows((2.3, 2.3), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8))  # diverging, not overfitting
    assert assess(history, patience=2).overfitting_since is None


def test_a_new_best_clears_the_flag():
    history = rows((2.3, 2.3), (0.5, 0.6), (0.4, 0.7), (0.3, 0.8), (0.2, 0.5))
    assert assess(history[:4], patience=2).overfitting_since == 2
    verdict = assess(history, patience=2)
    assert (verdict.best_epoch, verdict.overfitting_since) == (4, None)


def test_missing_or_diverged_losses_are_skipped():
    history = rows((2.3, None), (None, 0.6), (0.3, float("nan")), (0.2, 0.5))
    verdict = assess(history, patience=1)
    assert (verdict.best_epoch, verdict.overfitting_since) == (3, None)
    assert assess([], patience=2).best_epoch is None
