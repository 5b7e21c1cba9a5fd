"""A fit saves a checkpoint each epoch, and a new fit continues from one where it stopped."""

import shutil
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from tests.factories import job_spec
from training.spec import JobSpec

pytest.importorskip("keras")

from training.keras.checkpoints import MODEL_FILE, STATE_FILE, Resume  # noqa: E402
from training.keras.fit import train  # noqa: E402

SPEC = job_spec(limit=1500, validation=0.2, units=32, epochs=2)


def test_a_resumed_fit_continues_after_the_checkpoint_with_its_optimizer(tmp_path: Path):
    kept: dict[int, Path] = {}

    def keep(folder: Path, epoch: int) -> None:
        kept[epoch] = shutil.copytree(folder, tmp_path / f"epoch-{epoch}")

    first = train(JobSpec.model_validate(SPEC), PROJECT_ROOT / "data", lambda *_: None,
                  on_checkpoint=keep)  # fmt: skip
    assert sorted(kept) == [1, 2]
    resume = Resume.load(kept[2] / MODEL_FILE, kept[2] / STATE_FILE)
    assert resume.epoch == 2
    assert resume.logs["loss"] == pytest.approx(first.history[-1]["loss"])

    seen: list[int] = []
    longer = JobSpec.model_validate({**SPEC, "epochs": 4})
    second = train(longer, PROJECT_ROOT / "data", lambda epoch, *_: seen.append(epoch),
                   resume_from=resume)  # fmt: skip
    assert seen == [3, 4]  # no epoch 0 again, nothing before the checkpoint
    assert int(second.model.optimizer.iterations.numpy()) > int(
        first.model.optimizer.iterations.numpy()
    )  # the optimizer's state came back with the weights
    assert second.final_metrics["val_accuracy"] >= first.final_metrics["val_accuracy"] - 0.1


def test_a_fit_resumed_after_its_last_epoch_trains_nothing_and_keeps_its_metrics(tmp_path: Path):
    kept: list[Path] = []
    train(JobSpec.model_validate(SPEC), PROJECT_ROOT / "data", lambda *_: None,
          on_checkpoint=lambda folder, epoch: kept.append(
              shutil.copytree(folder, tmp_path / f"e{epoch}")))  # fmt: skip
    resume = Resume.load(kept[-1] / MODEL_FILE, kept[-1] / STATE_FILE)
    result = train(JobSpec.model_validate(SPEC), PROJECT_ROOT / "data", lambda *_: None,
                   resume_from=resume)  # fmt: skip
    assert result.history == []
    assert {k: result.final_metrics[k] for k in resume.logs} == resume.logs
    assert "test_loss" in result.final_metrics  # the held-out split is still scored once
