"""Where a building or site puts a report, which spot a shared location lands on, and
which community an admin acts in: the single copies the services share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.access import Actor, admin_community
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.geo import distance_m, nearest_place
from bot.domain.models import Building, Role, RoleGrant, Site
from bot.domain.reports import Place, place_of


def building(id: int, zone_id: int, lat: float | None, lon: float | None) -> Building:
    return Building(id, 1, zone_id, f"{id}号楼", lat, lon)


def site(id: int, zone_id: int, lat: float | None, lon: float | None) -> Site:
    return Site(id, 1, zone_id, f"门店{id}", "shop", None, None, None, lat, lon)


def test_a_building_places_the_report_in_its_zone() -> None:
    assert place_of(building(7, 3, 30.0, 120.0), 30.0, 120.0) == Place(
        3, building_id=7, lat=30.0, lon=120.0
    )


def test_a_site_places_the_report_in_its_zone() -> None:
    assert place_of(site(7, 4, None, None)) == Place(4, site_id=7)


def test_a_site_with_a_buildings_id_is_still_a_site() -> None:
    # Buildings and sites number separately: the kind, not the id, says which column.
    assert place_of(site(7, 4, 1.0, 2.0), 1.0, 2.0).building_id is None


def test_the_nearest_spot_wins_whatever_its_kind() -> None:
    here = (30.2700, 120.1500)
    far_building = building(1, 10, 30.2720, 120.1500)  # about 220 m
    near_site = site(2, 20, 30.2705, 120.1500)  # about 55 m
    hit = nearest_place(*here, [far_building], [near_site], max_distance_m=2_000)
    assert hit is not None
    assert hit[0] == near_site
    assert place_of(hit[0], *here) == Place(20, site_id=2, lat=here[0], lon=here[1])


def test_a_building_wins_a_tie_with_a_site() -> None:
    spot = (30.27, 120.15)
    hit = nearest_place(*spot, [building(1, 10, *spot)], [site(1, 20, *spot)], max_distance_m=10)
    assert hit is not None and isinstance(hit[0], Building)


def test_nothing_within_reach_or_without_coordinates_is_no_spot() -> None:
    here = (30.27, 120.15)
    assert nearest_place(*here, [], [], max_distance_m=2_000) is None
    assert nearest_place(*here, [building(1, 1, None, None)], [], max_distance_m=2_000) is None
    # About 11 km north.
    assert nearest_place(*here, [building(1, 1, 30.37, 120.15)], [], max_distance_m=2_000) is None


coords = st.tuples(
    st.floats(min_value=29.0, max_value=31.0), st.floats(min_value=119.0, max_value=121.0)
)


@given(st.lists(coords, max_size=6), st.lists(coords, max_size=6), coords)
def test_the_spot_found_is_no_farther_than_any_other(
    b_points: list[tuple[float, float]],
    s_points: list[tuple[float, float]],
    here: tuple[float, float],
) -> None:
    buildings = [building(i, i, lat, lon) for i, (lat, lon) in enumerate(b_points)]
    sites = [site(i, i, lat, lon) for i, (lat, lon) in enumerate(s_points)]
    hit = nearest_place(*here, buildings, sites, max_distance_m=1_000_000)
    if not buildings and not sites:
        assert hit is None
        return
    assert hit is not None
    spot, distance = hit
    assert spot in [*buildings, *sites]
    assert all(distance <= distance_m(*here, *p) + 1e-6 for p in [*b_points, *s_points])


def actor(community_id: int | None, *roles: Role, super_admin: bool = False) -> Actor:
    grants = tuple(RoleGrant(5, community_id or 0, r, None) for r in roles)
    return Actor(5, 105, community_id, grants, super_admin)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (actor(3, Role.ADMIN), 3),
        (actor(3, super_admin=True), 3),
        (actor(3, Role.LEADER), NotAllowed),
        (actor(3, Role.CADRE, Role.INSPECTOR), NotAllowed),
        (actor(3), NotAllowed),
        (actor(None, Role.ADMIN), InvalidInput),
        (actor(None, super_admin=True), InvalidInput),
    ],
)
def test_an_admins_community(who: Actor, expected: int | type[Exception]) -> None:
    if isinstance(expected, int):
        assert admin_community(who) == expected
    else:
        with pytest.raises(expected):
            admin_community(who)


def test_no_community_is_asked_for_before_the_role() -> None:
    with pytest.raises(InvalidInput) as raised:
        admin_community(actor(None))
    assert raised.value.key == "start.pick_community_first"
