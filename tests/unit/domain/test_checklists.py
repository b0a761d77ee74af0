"""Checklist items: each names its standard and, separately, what its failure is."""

from __future__ import annotations

import pytest

from bot.domain import checklists
from bot.domain.reports import CATEGORIES


@pytest.mark.parametrize("item", list(checklists.ITEMS.values()), ids=lambda i: i.code)
class TestEveryItem:
    def test_failure_wording_is_not_the_standard_in_either_language(
        self, item: checklists.Item
    ) -> None:
        assert item.fail_zh and item.fail_en
        assert item.fail_zh != item.zh and item.fail_en != item.en

    def test_failure_wording_does_not_read_as_no_problem(self, item: checklists.Item) -> None:
        # "督查发现：无…" would tell the cadre that nothing was found.
        assert not item.fail_zh.startswith("无")
        assert not item.fail_en.lower().startswith("no ")

    def test_failure_files_under_a_report_category(self, item: checklists.Item) -> None:
        assert item.ticket_category in CATEGORIES


@pytest.mark.parametrize(
    ("category", "code", "fault"),
    [
        ("居民小区", "corners", "有卫生死角或暴露垃圾，垃圾清运不及时"),
        ("居民小区", "stairwells", "楼道堆物、通行不畅"),
        ("主次干道", "stalls", "有占道经营或马路市场"),
        ("没有的类别", "fire", "消防通道堵塞"),
    ],
)
def test_checklist_of_a_site_category_carries_the_fault_wording(
    category: str, code: str, fault: str
) -> None:
    item = next(i for i in checklists.checklist_for(category) if i.code == code)
    assert item.fail_zh == fault
