"""The learned half of intake: features, scoring, the model file, training and adapting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.config import ConfigError, config_from_mapping
from bot.domain.intake import CATEGORY_CODES, IntakeParser
from bot.domain.intake_model import SIGNAL_MARK, IntakeModel, ModelError, features
from bot.domain.intake_training import (
    ADAPT_SETTINGS,
    TrainingExample,
    TrainingSettings,
    train,
)


def test_features_are_character_ngrams_with_digits_folded() -> None:
    grams = features("3栋 漏水")
    assert {"0", "栋", "0栋", "0栋 ", "漏水", "栋 漏"} <= grams
    assert features("15栋漏水") >= {"00栋", "0栋漏"}
    assert " " not in grams
    # A resident cannot forge a rule signal: the normaliser turns control characters to spaces.
    normalised, signals = IntakeParser().signals(f"{SIGNAL_MARK}R:request 着火了")
    assert not any(gram.startswith(SIGNAL_MARK) for gram in features(normalised))
    assert f"{SIGNAL_MARK}emergency" in signals


def _examples() -> list[TrainingExample]:
    requests = [
        ("电梯坏了", "property"),
        ("楼道灯坏了", "property"),
        ("路灯不亮", "municipal"),
        ("马路塌了个坑", "municipal"),
        ("电梯又坏了", "property"),
        ("路灯坏了", "municipal"),
    ]
    chat = ["早上好", "谢谢大家", "今天天气好", "早上好呀", "谢谢网格员", "天气真好"]
    return [TrainingExample(text, True, code, "normal") for text, code in requests] + [
        TrainingExample(text, False) for text in chat
    ]


@pytest.fixture(scope="module")
def small_model() -> IntakeModel:
    return train(_examples(), TrainingSettings(min_count=1, steps=200))


def test_training_separates_requests_from_chat_and_reads_the_category(
    small_model: IntakeModel,
) -> None:
    assert small_model.score("3栋电梯坏了").request > 0.5
    assert small_model.score("3栋电梯坏了").category == "property"
    assert small_model.score("门口路灯坏了").category == "municipal"
    assert small_model.score("大家早上好").request < 0.5
    assert small_model.categories == CATEGORY_CODES


def test_partly_labelled_examples_teach_only_their_heads(small_model: IntakeModel) -> None:
    # A withdrawal says "not a request" and nothing about the category.
    examples = [*_examples(), TrainingExample("电梯广告", False, weight=5.0)]
    model = train(examples, TrainingSettings(min_count=1, steps=200))
    assert model.score("电梯广告").request < small_model.score("电梯广告").request
    assert model.score("电梯坏了").category == "property"


def test_a_saved_model_scores_as_it_did(small_model: IntakeModel, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_model.save(path)
    loaded = IntakeModel.load(path)
    assert loaded.grams == small_model.grams and loaded.categories == small_model.categories
    for text in ("电梯坏了", "谢谢大家", "未见过的字"):
        assert np.allclose(loaded.raw_scores(text), small_model.raw_scores(text), atol=1e-2)


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_a_bad_model_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelError, match="bad.npz"):
        IntakeModel.load(path)
    with pytest.raises(ModelError):
        IntakeModel.load(tmp_path / "missing.npz")


def test_the_config_names_a_model_file_that_must_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[intake\] model"):
        config_from_mapping({"intake": {"model": str(tmp_path / "missing.npz")}})
    path = tmp_path / "m.npz"
    train(_examples(), TrainingSettings(min_count=1, steps=5)).save(path)
    assert config_from_mapping({"intake": {"model": str(path)}}).intake.model == str(path)


def test_adapting_moves_the_corrected_answers_and_keeps_the_rest(
    small_model: IntakeModel,
) -> None:
    corrections = [TrainingExample("路灯坏了", True, "property", None, weight=3.0)]
    adapted = train(corrections, ADAPT_SETTINGS, base=small_model)
    assert small_model.score("路灯坏了").category == "municipal"
    assert adapted.score("路灯坏了").category == "property"
    assert adapted.score("电梯坏了").category == "property"
    assert adapted.score("大家早上好").request < 0.5
    assert adapted.grams[: len(small_model.grams)] == small_model.grams


def test_the_shipped_model_loads_and_knows_every_category() -> None:
    model = IntakeModel.shipped()
    assert model.categories == CATEGORY_CODES
    assert len(model.grams) > 10_000


def test_a_category_only_the_deployment_added_comes_from_the_rules() -> None:
    from bot.domain.intake import Vocabulary

    vocabulary = Vocabulary.default().merged_with(
        {
            "categories": {
                "pets": {
                    "label_zh": "宠物",
                    "label_en": "Pets",
                    "subjects": ["猫咪"],
                    "issues": ["猫咪乱叫"],
                }
            }
        }
    )
    parser = IntakeParser(vocabulary, IntakeModel.shipped())
    intake = parser.parse("楼道里猫咪乱叫 晚上睡不着")
    assert intake.is_request and intake.category == "pets"


def test_a_message_written_to_the_bot_meets_a_lower_bar(small_model: IntakeModel) -> None:
    from bot.domain.intake import Blend

    parser = IntakeParser(
        model=small_model, blend=Blend(request_threshold=1.01, addressed_threshold=0.0)
    )
    assert not parser.parse("楼道灯坏了").is_request
    assert parser.parse("楼道灯坏了", addressed=True).is_request


def test_a_long_letter_meets_a_lower_bar(small_model: IntakeModel) -> None:
    from bot.domain.intake import Blend

    parser = IntakeParser(
        model=small_model, blend=Blend(request_threshold=1.01, long_threshold=0.0, long_chars=20)
    )
    assert not parser.parse("楼道灯坏了").is_request
    letter = "尊敬的领导：我们单元的楼道灯已经坏了一个多月，晚上老人上下楼很不方便。"
    assert parser.parse(letter).is_request


def test_scoring_finds_every_known_ngram_once_and_nothing_else() -> None:
    """The packed-integer lookup reads a message as the set of its known n-grams."""
    grams = ["电梯", "梯坏", "坏", "0栋", "a b", "🔥", "火🔥", f"{SIGNAL_MARK}emergency"]
    width = 1 + len(CATEGORY_CODES) + 3
    weights = np.zeros((len(grams), width), np.float32)
    weights[:, 0] = [1, 2, 4, 8, 16, 32, 64, 128]
    model = IntakeModel(grams, weights, np.zeros(width, np.float32), CATEGORY_CODES)
    # 电梯, 梯坏, 坏 and 0栋 once each however often they appear: (1+2+4+8)/sqrt(4).
    assert model.raw_scores("3栋电梯坏坏 电梯坏")[0] == pytest.approx(15 / 2)
    assert model.raw_scores("a b 火🔥")[0] == pytest.approx((16 + 32 + 64) / np.sqrt(3))
    assert model.raw_scores("梯子", [f"{SIGNAL_MARK}emergency"])[0] == pytest.approx(128)
    assert model.raw_scores("")[0] == 0.0
    assert model.raw_scores("无关的话")[0] == 0.0


def test_near_duplicates_share_a_fold_and_strangers_need_not() -> None:
    from bot.domain.intake_training import fold_numbers, near_duplicate_groups

    texts = [
        "3栋电梯又坏了，老人下不了楼",
        "15栋 电梯又坏了!! 老人下不了楼",  # the same but for digits and punctuation
        "尊敬的领导：我们小区东门外的人行道地砖大面积破损，下雨天一踩就溅一身泥水，恳请维修",
        "尊敬的领导：我们小区东门外的人行道地砖大面积破损，下雨天一踩就溅一身泥水，请尽快维修",
        "尊敬的领导：小区门口的路灯坏了一个月，晚上一片漆黑，恳请维修",  # a stock opening only
        "早上好",
    ]
    groups = near_duplicate_groups(texts)
    assert groups[0] == groups[1]
    assert groups[2] == groups[3]
    assert len({groups[0], groups[2], groups[4], groups[5]}) == 4
    folds = fold_numbers(texts, 5)
    assert folds[0] == folds[1] and folds[2] == folds[3]
    assert all(0 <= fold < 5 for fold in folds)
    assert fold_numbers(texts, 5) == folds  # stable from run to run
