"""The monthly review (月讲评) and its consequences, run by the durable tick on the 1st:
scores of the month before, the ranking picture for the groups, the breakdown and the
talk list (约谈) for leaders, zone rectification tickets, quarterly penalties and the
annual awards. Every decision is recorded once (consequences) and every post is claimed
under an occurrence key, so a restart repeats nothing."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain import keys, scoring
from bot.domain.models import Community, Language, Person, Role
from bot.domain.periods import review_is_late, reviews_owed
from bot.domain.reports import Place
from bot.domain.scoring import ScoringRules, YearMonth
from bot.domain.tickets import Source
from bot.files import write_atomically
from bot.i18n import ByLanguage, Month, Safe, both, listing, t
from bot.render.ranking import (
    BoardRow,
    RankingBoard,
    board_note,
    format_change,
    format_rate,
    render_ranking,
)
from bot.render.worker import run_background_image_work
from bot.services import messages
from bot.services.base import Service
from bot.services.reports import NewTicket, ReportService
from bot.services.scoring import compute_month
from storage.database import Database
from storage.scores import StoredScore
from storage.transaction import Transaction

log = logging.getLogger(__name__)

MAX_DROP_PHOTOS = 3


class ReviewService(Service):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        outbox_ready: asyncio.Event,
        *,
        reports: ReportService,
        data_dir: Path,
    ) -> None:
        super().__init__(db, clock, outbox_ready)
        self.reports = reports
        self.data_dir = data_dir

    async def tick(self) -> int:
        """Review the oldest month each community is owed: last month once its review time
        (the 1st, 09:00) has come, or an earlier one a stopped bot missed.

        One month per community and tick, so a tick after a long downtime does no more
        work than the 1st's does; the next months follow a minute apart, oldest first.
        """
        now = self.clock.now()
        async with self.db.read() as tx:
            communities = await tx.communities.list_all()
        done = 0
        for community in communities:
            # Each community on its own: one failing must not hold the others' reviews.
            try:
                month = await self._owed(community, now)
                if month is not None and await self.run(community, month):
                    done += 1
            except Exception:
                log.exception("review failed community_id=%s", community.id)
        if done:
            self._wake_outbox()
        return done

    async def _owed(self, community: Community, now: datetime) -> YearMonth | None:
        """The oldest month still to review in the community, if any."""
        tz = ZoneInfo(community.timezone)
        local = now.astimezone(tz).replace(tzinfo=None)
        since = community.created_at.astimezone(tz).date()
        async with self.db.read() as tx:
            rules = await tx.communities.rules(community.id)
            candidates = reviews_owed(since, local, rules.monthly_review_time)
            claimed = await tx.occurrences.existing(
                [keys.review(community.id, m) for m in candidates]
            )
        reviewed = {m for m in candidates if keys.review(community.id, m) in claimed}
        owed = reviews_owed(since, local, rules.monthly_review_time, reviewed)
        return owed[0] if owed else None

    async def run(self, community: Community, month: YearMonth) -> bool:
        """The review of ``month``; False if it already ran."""
        key = keys.review(community.id, month)
        async with self.db.read() as tx:
            if await tx.occurrences.exists(key):
                return False
        now = self.clock.now()
        async with self.db.transaction() as tx:
            scores = await compute_month(tx, community.id, month, now)
            last = await tx.scores.month(community.id, str(month.previous()))
            previous = {s.zone_id: s.score for s in last}
            heads = await _heads(tx, community.id)
            rules = ScoringRules.from_community(await tx.communities.rules(community.id))
        tz = ZoneInfo(community.timezone)
        late = review_is_late(month, now.astimezone(tz).replace(tzinfo=None))
        # The board is a Chinese notice: its footnote is Chinese whoever reads it.
        note = board_note(now.astimezone(tz), t(Language.ZH, "review.late_note") if late else None)
        board = RankingBoard(
            community=community.name,
            month_label=month.label_zh,
            rows=tuple(_board_row(s, previous.get(s.zone_id), heads, rules) for s in scores),
            note=note,
            talk_threshold=rules.talk_threshold,
            award_threshold=rules.award_threshold,
        )
        # Drawn outside the transaction: rendering is slow and needs no lock.
        png = await run_background_image_work(render_ranking, board)
        relative = Path("rankings") / str(community.id) / f"{month}.png"
        await asyncio.to_thread(write_atomically, self.data_dir / relative, png)
        async with self.db.transaction() as tx:
            if not await tx.occurrences.claim(key, now):
                return False
            await self._post(
                tx, community, month, scores, previous, heads, str(relative), now, late
            )
            await self._leaders(tx, community, month, scores, previous, rules, now, late)
            if month.month in (3, 6, 9, 12):
                await self._quarter(tx, community, month, rules, now, late)
            if month.month == 12:
                await self._year(tx, community, month, rules, now, late)
        log.info("monthly review done community_id=%s month=%s late=%s", community.id, month, late)
        return True

    async def _post(
        self,
        tx: Transaction,
        community: Community,
        month: YearMonth,
        scores: list[StoredScore],
        previous: dict[int, float | None],
        heads: dict[int, str],
        image: str,
        now: datetime,
        late: bool,
    ) -> None:
        """The picture, the text version, and inspection photos of zones that dropped."""
        lines = ByLanguage.of(
            lambda lang: Safe(
                "\n".join(_rank_line(lang, s, previous.get(s.zone_id), heads) for s in scores)
            )
        )
        label = Month(month.year, month.month)
        dropped = [
            s.zone_id
            for s in scores
            if (scoring.change(s.score, previous.get(s.zone_id)) or 0) < 0
        ]
        photos = await tx.inspections.failed_photos(
            community.id, month.first_day, month.last_day, dropped
        )
        late_line = ByLanguage.of(lambda lang: _late_line(lang, late))
        caption = both("review.caption", community=community.name, month=label, late=late_line)
        for group in await tx.groups.list_by_community(community.id):
            await tx.outbox.add(
                group.chat_id,
                messages.photo_payload(image, caption),
                now,
                kind="photo",
                dedupe_key=keys.review_image(community.id, month, group.chat_id),
            )
            await messages.to_group(
                tx,
                group.chat_id,
                now,
                "review.text",
                month=label,
                lines=lines,
                late=late_line,
                dedupe_key=keys.review_text(community.id, month, group.chat_id),
            )
            for zone_name, path in photos[:MAX_DROP_PHOTOS]:
                photo_caption = both("review.photo_caption", zone=zone_name, month=label)
                await tx.outbox.add(
                    group.chat_id,
                    messages.photo_payload(path, photo_caption),
                    now,
                    kind="photo",
                    dedupe_key=keys.review_photo(community.id, month, group.chat_id, path),
                )

    async def _leaders(
        self,
        tx: Transaction,
        community: Community,
        month: YearMonth,
        scores: list[StoredScore],
        previous: dict[int, float | None],
        rules: ScoringRules,
        now: datetime,
        late: bool,
    ) -> None:
        """The breakdown, the talk list (with zone tickets), and penalty flags."""
        leaders = await tx.people.list_with_role(community.id, Role.LEADER)
        ranked = [
            scoring.RankedZone(s.zone_id, s.score, s.rank)
            for s in scores
            if s.score is not None and s.rank is not None
        ]
        history = {s.zone_id: [previous.get(s.zone_id), s.score] for s in scores}
        penalties = set(scoring.repeated_talks(history, rules))
        talks: list[tuple[str, str, float, bool]] = []
        for zone_id in scoring.talk_list(ranked, rules):
            zone = await tx.zones.get(zone_id)
            score = next(s.score for s in scores if s.zone_id == zone_id) or 0.0
            head = (
                await tx.people.get(zone.responsible_person_id)
                if zone.responsible_person_id
                else None
            )
            first_time = await tx.consequences.record(
                community.id, zone_id, "talk", str(month), now, value=score
            )
            if first_time and leaders:
                await self._zone_ticket(tx, community, month, zone_id, score, rules, leaders[0])
            if zone_id in penalties:
                # Two talks in a row without improvement: flagged for the rules' penalty.
                await tx.consequences.record(
                    community.id, zone_id, "penalty", str(month), now, value=score
                )
            talks.append((zone.name, head.name if head else "—", score, zone_id in penalties))
        for leader in leaders:
            lang = leader.language or Language.ZH
            detail = "\n".join(_detail_line(lang, s) for s in scores)
            talk_lines = "\n".join(
                t(lang, "review.talk_line", zone=z, head=h, score=f"{sc:g}")
                + (t(lang, "review.penalty_flag") if flagged else "")
                for z, h, sc, flagged in talks
            )
            await messages.to_person(
                tx,
                leader,
                now,
                "review.leaders",
                month=Month(month.year, month.month),
                lines=Safe(detail),
                talks=Safe(talk_lines or "—"),
                late=_late_line(lang, late),
                dedupe_key=keys.review_leaders(community.id, month, leader.id),
            )

    async def _zone_ticket(
        self,
        tx: Transaction,
        community: Community,
        month: YearMonth,
        zone_id: int,
        score: float,
        rules: ScoringRules,
        issuer: Person,
    ) -> None:
        """A zone under the threshold must rectify within the usual working days."""
        description = t(
            Language.ZH,
            "review.talk_ticket",
            month=month.label_zh,
            score=f"{score:g}",
            threshold=f"{rules.talk_threshold:g}",
        )
        ticket = await self.reports.create_ticket(
            tx,
            NewTicket(
                community_id=community.id,
                source=Source.REVIEW,
                reporter_person_id=issuer.id,
                category="other",
                place=Place(zone_id),
                description=description,
                photos=(),
                anonymous=False,
            ),
            keys.talk_origin(community.id, zone_id, month),
        )
        await tx.consequences.set_ticket(community.id, zone_id, "talk", str(month), ticket.id)

    async def _quarter(
        self,
        tx: Transaction,
        community: Community,
        month: YearMonth,
        rules: ScoringRules,
        now: datetime,
        late: bool,
    ) -> None:
        year, quarter = scoring.quarter_of(month)
        months = scoring.quarter_months(year, quarter)
        history = await tx.scores.community_history(community.id, str(months[0]), str(months[-1]))
        averages = _averages(history)
        names = {s.zone_id: s.zone_name for s in history}
        last = scoring.quarterly_penalty(averages, rules)
        period = f"{year}-Q{quarter}"
        if last is not None:
            await tx.consequences.record(
                community.id, last, "quarterly_penalty", period, now, value=averages[last]
            )
        ordered = sorted(averages.items(), key=lambda kv: -(kv[1] or 0))
        for leader in await tx.people.list_with_role(community.id, Role.LEADER):
            await messages.to_person(
                tx,
                leader,
                now,
                "review.quarterly",
                period=period,
                lines=Safe(
                    "\n".join(
                        t(
                            leader.language,
                            "review.quarter_line",
                            zone=names[z],
                            average="—" if a is None else f"{a:g}",
                        )
                        for z, a in ordered
                    )
                ),
                penalty=names[last] if last is not None else "—",
                late=_late_line(leader.language or Language.ZH, late),
                dedupe_key=keys.review_quarter(community.id, period, leader.id),
            )

    async def _year(
        self,
        tx: Transaction,
        community: Community,
        month: YearMonth,
        rules: ScoringRules,
        now: datetime,
        late: bool,
    ) -> None:
        year = month.year
        history = await tx.scores.community_history(community.id, f"{year}-01", f"{year}-12")
        averages = _averages(history)
        names = {s.zone_id: s.zone_name for s in history}
        awards = scoring.annual_awards(averages, rules)
        criticism = scoring.criticism_list(averages, rules)
        for award in awards:
            await tx.consequences.record(
                community.id,
                award.zone_id,
                "award",
                str(year),
                now,
                level=award.level,
                value=award.average,
            )
        for zone_id in criticism:
            await tx.consequences.record(
                community.id, zone_id, "criticism", str(year), now, value=averages[zone_id]
            )
        award_lines = ByLanguage.of(
            lambda lang: Safe(
                "\n".join(
                    t(
                        lang,
                        f"review.prize_{a.level}",
                        zone=names[a.zone_id],
                        average=f"{a.average:g}",
                    )
                    for a in awards
                )
                or "—"
            )
        )
        critic = ByLanguage.of(
            lambda lang: Safe(listing(lang, (names[z] for z in criticism)) or "—")
        )
        for group in await tx.groups.list_by_community(community.id):
            await messages.to_group(
                tx,
                group.chat_id,
                now,
                "review.awards",
                year=year,
                awards=award_lines,
                late=ByLanguage.of(lambda lang: _late_line(lang, late)),
                dedupe_key=keys.review_awards(community.id, year, group.chat_id),
            )
        for leader in await tx.people.list_with_role(community.id, Role.LEADER):
            await messages.to_person(
                tx,
                leader,
                now,
                "review.annual",
                year=year,
                awards=award_lines,
                criticism=critic,
                late=_late_line(leader.language or Language.ZH, late),
                dedupe_key=keys.review_annual(community.id, year, leader.id),
            )


def _late_line(lang: Language, late: bool) -> Safe:
    """The line a late review carries, or nothing (the catalog text is already HTML)."""
    return Safe("\n" + t(lang, "review.late") if late else "")


async def _heads(tx: Transaction, community_id: int) -> dict[int, str]:
    heads = {}
    for zone in await tx.zones.list_by_community(community_id):
        if zone.responsible_person_id:
            heads[zone.id] = (await tx.people.get(zone.responsible_person_id)).name
    return heads


def _averages(history: list[StoredScore]) -> dict[int, float | None]:
    by_zone: dict[int, list[float | None]] = {}
    for s in history:
        by_zone.setdefault(s.zone_id, []).append(s.score)
    return {z: scoring.annual_average(v) for z, v in by_zone.items()}


def _board_row(
    s: StoredScore, last: float | None, heads: dict[int, str], rules: ScoringRules
) -> BoardRow:
    return BoardRow(
        rank=s.rank,
        zone=s.zone_name,
        cadre=heads.get(s.zone_id, "—"),
        score=s.score,
        change=scoring.change(s.score, last),
        band=scoring.band(s.score, rules).value if s.score is not None else "unrated",
        rectification_rate=s.indicators.get("on_time_rectification"),
    )


def _rank_line(lang: Language, s: StoredScore, last: float | None, heads: dict[int, str]) -> str:
    if s.score is None:
        return t(lang, "review.unrated_line", zone=s.zone_name)
    return t(
        lang,
        "review.rank_line",
        rank=s.rank,
        zone=s.zone_name,
        head=heads.get(s.zone_id, "—"),
        score=f"{s.score:g}",
        change=format_change(scoring.change(s.score, last)),
        rate=format_rate(s.indicators.get("on_time_rectification")),
    )


def _detail_line(lang: Language, s: StoredScore) -> str:
    ind = s.indicators
    return t(
        lang,
        "review.detail_line",
        zone=s.zone_name,
        score="—" if s.score is None else f"{s.score:g}",
        inspections=s.inspections,
        mean="—" if s.inspection_mean is None else f"{s.inspection_mean:g}",
        overdue=s.overdue,
        penalty=f"{s.penalty:g}",
        acceptance=format_rate(ind.get("on_time_acceptance")),
        rectification=format_rate(ind.get("on_time_rectification")),
        reopen=format_rate(ind.get("reopen_rate")),
        transfer=format_rate(ind.get("transfer_back_rate")),
        satisfaction=format_rate(ind.get("satisfaction")),
    )
