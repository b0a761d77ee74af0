"""Each idempotency key's exact text: deployments have recorded these strings, and a
changed one would let its message or occurrence repeat."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain import keys
from bot.domain.scoring import YearMonth

DAY = date(2026, 3, 9)
AT = datetime(2026, 3, 9, 8, 30, tzinfo=UTC)
MONTH = YearMonth(2026, 3)

PINNED = [
    (keys.remind_due(7, DAY), "remind-due:7:2026-03-09"),
    (keys.remind_before(7, DAY), "remind-before:7:2026-03-09"),
    (keys.overdue(7, DAY), "overdue:7:2026-03-09"),
    (keys.overdue(7, None), "overdue:7:None"),
    (keys.accept_late(7, DAY, 3), "accept-late:7:2026-03-09:3"),
    (keys.accept_late(7, DAY, None), "accept-late:7:2026-03-09:None"),
    (keys.recheck(7, AT), "recheck:7:2026-03-09T08:30:00+00:00"),
    (keys.cadre_unreachable(7, 3), "cadre-unreachable:7:3"),
    (keys.slot("clean-eve", DAY), "clean-eve:2026-03-09"),
    (keys.slot_in("clean-eve:2026-03-09", 2), "clean-eve:2026-03-09:2"),
    (keys.activity_reminder(5, 3), "activity-reminder:5:3"),
    (keys.digest(2, 3, DAY), "digest:2:3:2026-03-09"),
    (keys.review(2, MONTH), "review:2:2026-03"),
    (keys.calendar_estimate(2027, 3), "calendar-estimate:2027:3"),
    (keys.to_person("remind-due:7:2026-03-09", 3), "remind-due:7:2026-03-09:3"),
    (keys.to_cadre("overdue:7:2026-03-09", 3), "overdue:7:2026-03-09:cadre:3"),
    (keys.to_cadre("accept-late:7:2026-03-09:3"), "accept-late:7:2026-03-09:3:cadre"),
    (
        keys.leader_list("tickets.escalated_line", "0123456789abcdef", 4, 1),
        "tickets.escalated_line:0123456789abcdef:4:1",
    ),
    (keys.dispatch(7, 2), "dispatch:7:2"),
    (keys.admin_queue(7, 2, 4), "queue:7:2:4"),
    (keys.transfer(7, 2, 3), "tr:7:2:3"),
    (keys.rectified(7, 2), "fix:7:2"),
    (keys.rectified(7, 2, 9), "fix:7:2:9"),
    (keys.closed(7), "closed:7"),
    (keys.reopened(7, 2, 3), "reopen:7:2:3"),
    (keys.extension(7, 2, 4), "ext:7:2:4"),
    (keys.reporter_news("tickets.accepted_to_reporter", 7, 2), "tickets.accepted_to_reporter:7:2"),
    (
        keys.reporter_news("tickets.accepted_to_reporter", 7, 2, 9),
        "tickets.accepted_to_reporter:7:2:9",
    ),
    (keys.notice(7, "2026-0007", 3), "notice:7:2026-0007:3"),
    (keys.redate(7, 2, 3), "redate:7:2:3"),
    (keys.slot_post("clean-day:2026-03-09", 2, -100), "clean-day:2026-03-09:2:-100"),
    (keys.inspection_plan(2, DAY, 3), "plan:2:2026-03-09:3"),
    (keys.volunteer_thanks(2, DAY, -100), "thanks:2:2026-03-09:-100"),
    (keys.promoted(5, 3), "promoted:5:3"),
    (keys.rating_verify(6, 3), "rating-verify:6:3"),
    (keys.rating_notice(6, -100), "rating-notice:6:-100"),
    (keys.rating_objection(6, 3, 4), "rating-objection:6:3:4"),
    (keys.rating_published(6, -100), "rating-published:6:-100"),
    (keys.review_image(2, MONTH, -100), "review-image:2:2026-03:-100"),
    (keys.review_text(2, MONTH, -100), "review-text:2:2026-03:-100"),
    (keys.review_photo(2, MONTH, -100, "p/1.jpg"), "review-photo:2:2026-03:-100:p/1.jpg"),
    (keys.review_leaders(2, MONTH, 4), "review-leaders:2:2026-03:4"),
    (keys.review_quarter(2, "2026-Q1", 4), "review-quarter:2:2026-Q1:4"),
    (keys.review_awards(2, 2026, -100), "review-awards:2:2026:-100"),
    (keys.review_annual(2, 2026, 4), "review-annual:2:2026:4"),
    (keys.report_origin(-100, 55), "-100:55"),
    (keys.report_origin(1001, 55, 123456), "123456/1001:55"),
    (keys.inspection_origin(8, 9, "litter"), "inspection:8:9:litter"),
    (keys.talk_origin(2, 5, MONTH), "talk:2:5:2026-03"),
    (keys.clean_day_series(2, 2026, 3), "clean_day:2:2026-03"),
    (keys.announcement_batch(12), "ann:12"),
]


@pytest.mark.parametrize(("built", "recorded"), PINNED, ids=[r for _, r in PINNED])
def test_each_key_keeps_the_text_deployments_recorded(built: str, recorded: str) -> None:
    assert built == recorded
