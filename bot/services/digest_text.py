"""A digest as message parameters, in the reader's language."""

from __future__ import annotations

from typing import Any

from bot.domain.models import Language
from bot.domain.tickets import Source
from bot.i18n import DaysSpan, Safe, listing, t
from bot.services.digests import Digest


def digest_params(digest: Digest, language: Language | None) -> dict[str, Any]:
    lang = language or Language.ZH
    overdue = [
        t(
            lang,
            "digest.overdue_line",
            number=o.number,
            zone=o.zone,
            cadre=o.cadre,
            due=o.due,
            days=o.days_over,
        )
        for o in digest.oldest_overdue
    ]
    zones = [
        t(lang, "digest.zone_line", zone=name, new=new, closed=closed)
        for name, new, closed in digest.per_zone
    ]
    today = [t(lang, key) for key in digest.today]
    rate = "—" if digest.rectification_rate is None else f"{digest.rectification_rate:g}%"
    return {
        "community": digest.community,
        "period": DaysSpan(digest.period.first, digest.period.last).render(lang),
        "new": digest.new,
        "by_resident": digest.new_by_source.get(Source.RESIDENT, 0),
        "by_inspection": digest.new_by_source.get(Source.INSPECTION, 0),
        "by_review": digest.new_by_source.get(Source.REVIEW, 0),
        # City systems (Open311) only where a community has connected one.
        "by_open311": Safe(
            t(lang, "digest.by_open311", count=digest.new_by_source[Source.OPEN311])
            if digest.new_by_source.get(Source.OPEN311)
            else ""
        ),
        "accepted": digest.accepted,
        "rectified": digest.rectified,
        "closed": digest.closed,
        "overdue": digest.overdue,
        "waiting": digest.waiting_recheck,
        "open": digest.open_total,
        "rate": rate,
        "due": digest.due,
        "on_time": digest.on_time,
        # Already-escaped lines: the parts came through t() one by one.
        "overdue_lines": Safe(
            ("\n" + t(lang, "digest.overdue_title") + "\n" + "\n".join(overdue)) if overdue else ""
        ),
        "zone_lines": Safe(("\n" + "\n".join(zones)) if zones else ""),
        "calendar": Safe(
            "\n"
            + t(
                lang,
                "calendar.digest_estimate",
                years=listing(lang, years),
            )
            if (years := digest.estimated_years)
            else ""
        ),
        "today": Safe(("\n" + listing(lang, today)) if today else ""),
    }
