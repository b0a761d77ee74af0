"""Unit tests for the community plan: field helpers, value objects and row relations."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.community_plan import (
    SITE_CATEGORIES,
    SITE_CATEGORY_LABELS,
    BuildingPlan,
    CommunityPlan,
    InvalidPlan,
    PersonRef,
    PlanValueError,
    Section,
    SitePlan,
    ZonePlan,
    clean_address,
    clean_category,
    clean_name,
    normalize_phone,
    plan_issues,
    unknown_zone_error,
    validate_code,
    validate_coordinates,
    validate_telegram_id,
    validate_timezone_name,
)

_mobiles = st.builds(
    lambda second, rest: f"1{second}{rest:09d}", st.integers(3, 9), st.integers(0, 999_999_999)
)


def _zone(code: str = "Z1", name: str = "东片区") -> ZonePlan:
    return ZonePlan(code, name, PersonRef("陈建国", "13857101234"))


def _plan(
    code: str = "xingfuli", name: str = "幸福里社区", timezone: str = "Asia/Shanghai"
) -> CommunityPlan:
    return CommunityPlan(
        code,
        name,
        timezone,
        zones=(_zone("Z1", "东片区"), _zone("Z2", "西片区")),
        buildings=(BuildingPlan("1号楼", "Z1", 30.27, 120.15),),
        sites=(SitePlan("幸福公园", "公园广场", "Z2"),),
    )


class TestSiteCategories:
    def test_sixteen_default_categories_each_have_an_english_label(self) -> None:
        assert len(SITE_CATEGORIES) == 16
        assert len(set(SITE_CATEGORIES)) == 16
        assert tuple(SITE_CATEGORY_LABELS) == SITE_CATEGORIES
        assert all(label.strip() for label in SITE_CATEGORY_LABELS.values())

    def test_categories_outside_the_list_are_allowed_when_not_empty(self) -> None:
        assert clean_category(" 老旧小区 ") == "老旧小区"
        with pytest.raises(PlanValueError):
            clean_category("  ")


class TestNormalizePhone:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("13857101234", "13857101234"),
            ("138 5710 1234", "13857101234"),
            ("138-5710-1234", "13857101234"),
            (" +86 138 5710 1234 ", "13857101234"),
            ("0086 13857101234", "13857101234"),
            ("１３８５７１０１２３４", "13857101234"),
            ("0571-88888888", "0571-88888888"),
            ("0571 8888 8888", "0571-88888888"),
            ("(0571)88888888", "0571-88888888"),
            ("(0571)8888-8888", "0571-88888888"),
            ("057188888888", "0571-88888888"),
            ("0571-8888888", "0571-8888888"),
            ("010-62345678", "010-62345678"),
            ("02087654321", "020-87654321"),
            ("+86 571 88888888", "0571-88888888"),
            ("+86 (0)571 88888888", "0571-88888888"),
        ],
    )
    def test_accepts_and_normalises_mainland_numbers(self, raw: str, expected: str) -> None:
        assert normalize_phone(raw) == expected

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "12345",
            "12857101234",  # no mobile prefix 12x
            "1385710123",  # 10 digits
            "138571012345",  # 12 digits
            "0571-0888888",  # local numbers never start with 0
            "0571-888888",  # too short
            "013812345678",  # 01x is only Beijing's 010
            "138 5710 123a",
            "+1 415 555 0100",
            "+86",
        ],
    )
    def test_rejects_other_numbers_with_a_bilingual_reason(self, raw: str) -> None:
        with pytest.raises(PlanValueError) as caught:
            normalize_phone(raw)
        assert caught.value.reason_zh == "电话号码格式不对"
        assert caught.value.reason_en == f'phone number is not valid: "{raw.strip()}"'

    @given(st.text(alphabet="0123456789 -()+８６", max_size=20))
    def test_normalising_is_idempotent(self, raw: str) -> None:
        try:
            once = normalize_phone(raw)
        except PlanValueError:
            return
        assert normalize_phone(once) == once

    @settings(max_examples=40)
    @given(
        _mobiles,
        st.lists(st.sampled_from(["", " ", "-", "  "]), min_size=11, max_size=11),
    )
    def test_any_spacing_of_a_mobile_gives_the_bare_digits(
        self, mobile: str, gaps: list[str]
    ) -> None:
        spaced = "".join(digit + gap for digit, gap in zip(mobile, gaps, strict=True))
        assert normalize_phone(spaced) == mobile


class TestFieldHelpers:
    @pytest.mark.parametrize("raw", ["xingfuli", "Z1", "a-b_c", "x" * 32, " Z1 "])
    def test_codes_of_letters_digits_dash_underscore_are_accepted(self, raw: str) -> None:
        assert validate_code(raw) == raw.strip()

    @pytest.mark.parametrize("raw", ["", "  ", "x" * 33, "幸福里", "Z 1", "Z1!", "z.1"])
    def test_other_codes_are_rejected(self, raw: str) -> None:
        with pytest.raises(PlanValueError):
            validate_code(raw)

    def test_names_are_stripped(self) -> None:
        assert clean_name("  东片区\u3000") == "东片区"

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            ("", "名称不能为空"),
            ("   ", "名称不能为空"),
            ("名" * 65, "名称太长（最多64个字）"),
            ("东\n片区", "名称含有换行或控制字符"),
            ("东\x00片区", "名称含有换行或控制字符"),
        ],
    )
    def test_bad_names_are_rejected(self, raw: str, reason: str) -> None:
        with pytest.raises(PlanValueError) as caught:
            clean_name(raw)
        assert caught.value.reason_zh == reason

    def test_a_64_character_name_is_accepted(self) -> None:
        assert clean_name("名" * 64) == "名" * 64

    def test_addresses_may_be_longer_than_names(self) -> None:
        assert clean_address("路" * 200) == "路" * 200
        with pytest.raises(PlanValueError):
            clean_address("路" * 201)

    @pytest.mark.parametrize(
        ("lat", "lon", "expected"),
        [
            (None, None, (None, None)),
            (30.27, 120.15, (30.27, 120.15)),
            (30, 120, (30.0, 120.0)),
            (-90, 180, (-90.0, 180.0)),
        ],
    )
    def test_coordinates_within_range_are_accepted(
        self, lat: float | None, lon: float | None, expected: tuple[float | None, float | None]
    ) -> None:
        assert validate_coordinates(lat, lon) == expected

    @pytest.mark.parametrize(
        ("lat", "lon", "field"),
        [
            (30.27, None, "lon"),
            (None, 120.15, "lat"),
            (120.15, 30.27, "lat"),  # swapped
            (30.27, 190.0, "lon"),
            (math.nan, 120.0, "lat"),
            (30.0, math.inf, "lon"),
        ],
    )
    def test_bad_coordinates_name_the_bad_field(
        self, lat: float | None, lon: float | None, field: str
    ) -> None:
        with pytest.raises(PlanValueError) as caught:
            validate_coordinates(lat, lon)
        assert caught.value.field == field

    @pytest.mark.parametrize("value", [0, -5, True])
    def test_telegram_ids_must_be_positive_whole_numbers(self, value: int) -> None:
        with pytest.raises(PlanValueError):
            validate_telegram_id(value)

    def test_timezone_names_are_checked_for_shape_only(self) -> None:
        assert validate_timezone_name(" Asia/Shanghai ") == "Asia/Shanghai"
        assert validate_timezone_name("Etc/GMT+8") == "Etc/GMT+8"
        for bad in ["", "Asia Shanghai", "../etc/passwd", "上海"]:
            with pytest.raises(PlanValueError):
                validate_timezone_name(bad)


class TestValueObjects:
    def test_values_are_normalised_on_construction(self) -> None:
        site = SitePlan(
            " 幸福公园 ",
            " 公园广场 ",
            " Z3 ",
            " 蒋玉兰 ",
            "0571 8812 3412",
            " 北门路18号 ",
            30,
            120,
        )
        assert site == SitePlan(
            "幸福公园", "公园广场", "Z3", "蒋玉兰", "0571-88123412", "北门路18号", 30.0, 120.0
        )
        assert PersonRef(" 陈建国 ", "138 5710 1234").phone == "13857101234"

    def test_every_bad_field_is_reported_at_once(self) -> None:
        with pytest.raises(InvalidPlan) as caught:
            SitePlan("", "主次干道", "Z 1", phone="12345", lat=95.0, lon=120.0)
        fields = [issue.field for issue in caught.value.issues]
        assert fields == ["name", "zone_code", "phone", "lat"]
        assert all(issue.section is Section.SITES for issue in caught.value.issues)

    def test_wrong_types_are_reported_not_crashed_on(self) -> None:
        with pytest.raises(InvalidPlan) as caught:
            BuildingPlan(None, "Z1")  # type: ignore[arg-type]
        assert caught.value.issues[0].field == "name"

    def test_value_objects_are_frozen_and_hashable(self) -> None:
        zone = ZonePlan("Z1", "东片区", deputies=[PersonRef("刘晓燕")])  # type: ignore[arg-type]
        assert zone.deputies == (PersonRef("刘晓燕"),)
        assert hash(zone) == hash(ZonePlan("Z1", "东片区", deputies=(PersonRef("刘晓燕"),)))
        with pytest.raises(dataclasses.FrozenInstanceError):
            zone.name = "西片区"  # type: ignore[misc]


class TestPlanRelations:
    def test_a_valid_plan_has_no_issues(self) -> None:
        plan = _plan()
        assert plan.zone_codes == ("Z1", "Z2")
        assert plan_issues(plan.zones, plan.buildings, plan.sites) == []

    def test_duplicate_zone_codes_point_at_the_first_one(self) -> None:
        with pytest.raises(InvalidPlan) as caught:
            dataclasses.replace(
                _plan(),
                zones=(_zone("Z1", "东片区"), _zone("Z2", "西片区"), _zone("Z1", "南片区")),
            )
        (issue,) = caught.value.issues
        assert (issue.section, issue.index, issue.field, issue.related) == (
            Section.ZONES,
            2,
            "code",
            0,
        )

    def test_duplicate_zone_building_and_site_names_are_reported(self) -> None:
        issues = plan_issues(
            [_zone("Z1", "东片区"), _zone("Z2", "东片区")],
            [BuildingPlan("1号楼", "Z1"), BuildingPlan("1号楼", "Z2")],
            [SitePlan("和平街", "主次干道", "Z1"), SitePlan("和平街", "背街小巷", "Z2")],
        )
        assert [(i.section, i.index, i.field) for i in issues] == [
            (Section.ZONES, 1, "name"),
            (Section.BUILDINGS, 1, "name"),
            (Section.SITES, 1, "name"),
        ]

    def test_unknown_zone_references_are_reported_with_a_hint(self) -> None:
        issues = plan_issues(
            [_zone("Z1", "North")],
            [BuildingPlan("1号楼", "North")],
            [SitePlan("和平街", "主次干道", "z1"), SitePlan("槐树巷", "背街小巷", "Z9")],
        )
        assert [(i.section, i.index) for i in issues] == [
            (Section.BUILDINGS, 0),
            (Section.SITES, 0),
            (Section.SITES, 1),
        ]
        assert "是否应为 Z1" in issues[0].reason_zh
        assert 'did you mean "Z1"' in issues[1].reason_en
        assert "did you mean" not in issues[2].reason_en

    def test_unknown_zone_error_suggests_a_code_for_a_name_or_wrong_case(self) -> None:
        codes, names = ["Z1", "Z2"], {"东片区": "Z1"}
        assert "Z1" in unknown_zone_error("东片区", codes, names).reason_zh
        assert "Z2" in unknown_zone_error("z2", codes, names).reason_en
        assert unknown_zone_error("Z9", codes, names).reason_en == 'no zone with code "Z9"'

    def test_one_telegram_id_cannot_belong_to_two_names(self) -> None:
        zones = [
            ZonePlan("Z1", "东片区", PersonRef("陈建国", telegram_id=42)),
            ZonePlan("Z2", "西片区", PersonRef("陈建国", telegram_id=42)),
            ZonePlan("Z3", "北片区", None, (PersonRef("王丽华", telegram_id=42),)),
        ]
        issues = plan_issues(zones, [], [])
        assert [(i.index, i.field) for i in issues] == [(2, "telegram_id")]

    def test_references_may_be_checked_against_stored_zones(self) -> None:
        buildings = [BuildingPlan("7号楼", "Z4")]
        assert plan_issues([], buildings, [], known_zone_codes={"Z4"}) == []
        assert plan_issues([], buildings, [], check_references=False) == []
        assert len(plan_issues([], buildings, [])) == 1

    def test_a_full_plan_needs_a_zone(self) -> None:
        with pytest.raises(InvalidPlan) as caught:
            CommunityPlan("xingfuli", "幸福里社区", "Asia/Shanghai")
        assert caught.value.issues[0].reason_en == "a community needs at least one zone"

    def test_a_partial_plan_adds_rows_without_zones_name_or_timezone(self) -> None:
        plan = CommunityPlan(
            "xingfuli", "", "", sites=(SitePlan("和平街", "主次干道", "Z3"),), partial=True
        )
        assert plan.partial and plan.zones == ()

    def test_a_partial_plan_cannot_rename_the_community(self) -> None:
        with pytest.raises(InvalidPlan):
            CommunityPlan("xingfuli", "幸福里", "", partial=True)

    def test_bad_community_fields_are_reported(self) -> None:
        with pytest.raises(InvalidPlan) as caught:
            _plan(code="幸福里", name="", timezone="Asia Shanghai")
        assert [i.field for i in caught.value.issues] == ["code", "name", "timezone"]


# --- property: valid plans round-trip -------------------------------------------------

_names = st.text(
    alphabet=st.sampled_from("幸福里东西南北片区楼号路街巷公园市场学校ABC123 "),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip())
_phones = st.one_of(
    st.none(),
    _mobiles,
    st.integers(20_000_000, 99_999_999).map(lambda n: f"0571-{n}"),
)
_coords = st.one_of(
    st.tuples(st.none(), st.none()),
    st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
)


@st.composite
def _plans(draw: st.DrawFn) -> CommunityPlan:
    zone_names = draw(st.lists(_names, min_size=1, max_size=4, unique_by=str.strip))
    zones = tuple(
        ZonePlan(
            f"Z{index}",
            name,
            draw(st.one_of(st.none(), st.builds(PersonRef, _names, _phones, st.none()))),
            tuple(draw(st.lists(st.builds(PersonRef, _names, _phones), max_size=2))),
        )
        for index, name in enumerate(zone_names, start=1)
    )
    codes = st.sampled_from([zone.code for zone in zones])
    building_names = draw(st.lists(_names, max_size=5, unique_by=str.strip))
    buildings = tuple(BuildingPlan(name, draw(codes), *draw(_coords)) for name in building_names)
    site_names = draw(st.lists(_names, max_size=5, unique_by=str.strip))
    sites = tuple(
        SitePlan(
            name,
            draw(st.sampled_from(SITE_CATEGORIES)),
            draw(codes),
            draw(st.one_of(st.none(), _names)),
            draw(_phones),
            draw(st.one_of(st.none(), _names)),
            *draw(_coords),
        )
        for name in site_names
    )
    return CommunityPlan("xingfuli", draw(_names), "Asia/Shanghai", zones, buildings, sites)


def _rebuild(plan: CommunityPlan) -> CommunityPlan:
    def person(ref: PersonRef | None) -> PersonRef | None:
        return None if ref is None else PersonRef(ref.name, ref.phone, ref.telegram_id)

    return CommunityPlan(
        plan.code,
        plan.name,
        plan.timezone,
        tuple(
            ZonePlan(z.code, z.name, person(z.cadre), tuple(map(person, z.deputies)))  # type: ignore[arg-type]
            for z in plan.zones
        ),
        tuple(BuildingPlan(b.name, b.zone_code, b.lat, b.lon) for b in plan.buildings),
        tuple(
            SitePlan(s.name, s.category, s.zone_code, s.contact, s.phone, s.address, s.lat, s.lon)
            for s in plan.sites
        ),
        partial=plan.partial,
    )


@settings(max_examples=30, deadline=None)
@given(_plans())
def test_valid_plans_round_trip_through_their_own_fields(plan: CommunityPlan) -> None:
    rebuilt = _rebuild(plan)
    assert rebuilt == plan
    assert dataclasses.replace(plan) == plan
    assert plan_issues(plan.zones, plan.buildings, plan.sites) == []
