"""`Reason`: check reasons as codes with parameters, rendered from one catalogue."""

from __future__ import annotations

import re

import pytest

from wallet_sdk.evidence import REASON_TEXTS, Reason


def test_every_code_has_english_and_chinese_and_chinese_needs_no_english_parameter() -> None:
    # the Chinese text may leave out a parameter that is English free text (an upstream
    # error message); it never names one the English text lacks
    for code, texts in REASON_TEXTS.items():
        assert set(texts) == {"en", "zh"}, code
        names = {lang: set(re.findall(r"\{(\w+)\}", texts[lang])) for lang in texts}
        assert names["zh"] <= names["en"], code
        assert re.search(r"[\u4e00-\u9fff]", texts["zh"]), code


def test_reason_renders_its_event_label_and_translated_terms() -> None:
    reason = Reason.of("lifecycle.not_awaiting", index=2, event="employee_signed", version=1)
    assert (
        reason.text()
        == "event 2 (employee_signed, version 1): version 1 is not awaiting the employee"
    )
    zh = reason.text("zh", terms={"event": {"employee_signed": "劳动者签署"}})
    assert zh == "第 2 号事件（劳动者签署，第 1 版）：第 1 版并未等待劳动者签署"
    assert reason.to_dict() == {
        "code": "lifecycle.not_awaiting",
        "params": {"event": "employee_signed", "index": 2, "version": 1},
    }


def test_unknown_code_is_rejected() -> None:
    with pytest.raises(KeyError, match=r"no\.such\.code"):
        Reason.of("no.such.code")


def test_missing_parameter_is_rejected_where_the_reason_is_made() -> None:
    with pytest.raises(KeyError, match="digest"):
        Reason.of("document.no_match")


def test_times_are_shown_in_utc() -> None:
    reason = Reason.of("accreditation.inactive", time=1796288973)
    assert reason.text() == (
        "the employer or its accreditor was not active at time 2026-12-03 09:09:33 UTC"
    )
    assert reason.to_dict()["params"] == {"time": 1796288973}
