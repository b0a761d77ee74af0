"""Unit tests for the community importer: the shipped samples and every kind of bad file."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import yaml
from openpyxl.workbook.workbook import Workbook

import bot
from bot.domain.community_plan import SITE_CATEGORIES, CommunityPlan
from bot.importer import ImportFailed, RowError, TableKind, load_plan, load_table_kind
from bot.importer.build import MAX_ROWS_PER_TABLE
from bot.importer.csv_table import MAX_CSV_ROWS
from bot.importer.worker import MAX_WORKERS, load_plan_isolated
from bot.importer.xlsx import MAX_MEMBERS, MAX_SHEET_ROWS
from bot.importer.yaml_plan import MAX_DEPTH
from tests.crafted_imports import (
    GBK_EXTRA_SITE,
    GBK_SITES_TEXT,
    csv_gbk,
    xlsx_100000_rows,
    xlsx_zip_bomb,
    yaml_billion_laughs,
)

EXAMPLES = Path(bot.__file__).parent / "examples"
SAMPLE_XLSX = EXAMPLES / "community.xlsx"
SAMPLE_YAML = EXAMPLES / "community.yaml"
SAMPLE_CSV = EXAMPLES / "sites.csv"
BROKEN_XLSX = EXAMPLES / "broken.xlsx"


def _failure(path: Path, community_code: str | None = None) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught:
        load_plan(path, community_code=community_code)
    return caught.value


def _where(error: RowError) -> tuple[str, int, str | None]:
    return error.sheet, error.row, error.column


def _edited_xlsx(tmp_path: Path, edit: Callable[[Workbook], None], name: str = "c.xlsx") -> Path:
    workbook = openpyxl.load_workbook(SAMPLE_XLSX)
    edit(workbook)
    path = tmp_path / name
    workbook.save(path)
    return path


def _edited_yaml(tmp_path: Path, edit: Callable[[dict[str, object]], None]) -> Path:
    data = yaml.safe_load(SAMPLE_YAML.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sample() -> CommunityPlan:
    return load_plan(SAMPLE_YAML)


class TestSamples:
    def test_the_sample_community_has_the_documented_shape(self, sample: CommunityPlan) -> None:
        assert (sample.code, sample.name, sample.timezone) == (
            "xingfuli",
            "幸福里社区",
            "Asia/Shanghai",
        )
        assert sample.zone_codes == ("Z1", "Z2", "Z3")
        assert all(zone.cadre is not None and zone.cadre.phone for zone in sample.zones)
        assert [len(zone.deputies) for zone in sample.zones] == [1, 0, 0]
        assert [b.name for b in sample.buildings] == [f"{n}号楼" for n in range(1, 7)]
        assert len(sample.sites) == 12
        categories = {site.category for site in sample.sites}
        assert len(categories) == 5 and categories <= set(SITE_CATEGORIES)
        assert {site.zone_code for site in sample.sites} == {"Z1", "Z2", "Z3"}
        assert all(site.contact and site.phone and site.lat for site in sample.sites)
        assert not sample.partial

    def test_the_xlsx_sample_equals_the_yaml_sample(self, sample: CommunityPlan) -> None:
        assert load_plan(SAMPLE_XLSX) == sample

    def test_the_csv_sample_holds_the_same_sites(self, sample: CommunityPlan) -> None:
        plan = load_plan(SAMPLE_CSV, community_code="xingfuli")
        assert plan.partial
        assert (plan.code, plan.name, plan.timezone) == ("xingfuli", "", "")
        assert plan.zones == () and plan.buildings == ()
        assert plan.sites == sample.sites

    def test_the_csv_sample_starts_with_a_bom(self) -> None:
        assert SAMPLE_CSV.read_bytes().startswith(b"\xef\xbb\xbf")

    def test_the_workbook_has_instructions_and_frozen_bold_headers(self) -> None:
        workbook = openpyxl.load_workbook(SAMPLE_XLSX)
        assert workbook.sheetnames[0] == "说明 README"
        for title in ["社区", "片区", "楼栋", "点位"]:
            sheet = workbook[title]
            assert sheet.freeze_panes == "A2"
            assert all(cell.font.b for cell in sheet[1] if cell.value)

    def test_the_code_given_by_the_caller_must_match_the_file(self) -> None:
        assert load_plan(SAMPLE_XLSX, community_code="xingfuli").code == "xingfuli"
        failure = _failure(SAMPLE_XLSX, community_code="heping")
        assert [_where(e) for e in failure.errors] == [("社区", 2, "编码")]

    def test_load_table_kind_tells_csv_tables_from_whole_communities(self) -> None:
        assert load_table_kind(SAMPLE_CSV) is TableKind.SITES
        assert load_table_kind(SAMPLE_XLSX) is None
        assert load_table_kind(SAMPLE_YAML) is None


class TestBrokenWorkbook:
    def test_every_bad_row_is_listed_with_its_row_number(self) -> None:
        failure = _failure(BROKEN_XLSX)
        assert [_where(e) for e in failure.errors] == [
            ("片区", 5, "编码"),
            ("楼栋", 4, "名称"),
            ("点位", 5, "电话"),
            ("点位", 9, "片区编码"),
        ]
        reasons = [e.reason_zh for e in failure.errors]
        assert reasons == [
            "片区编码重复（与第2行相同）",
            "楼栋名称不能为空",
            "电话号码格式不对",
            "片区编码不存在",
        ]

    def test_the_message_lists_one_problem_per_line(self) -> None:
        lines = str(_failure(BROKEN_XLSX)).splitlines()
        assert len(lines) == 4
        assert (
            lines[2] == '点位 第5行 [电话]: 电话号码格式不对 (phone number is not valid: "12345")'
        )


class TestXlsxProblems:
    def test_an_unknown_column_is_named(self, tmp_path: Path) -> None:
        def rename(workbook: Workbook) -> None:
            workbook["点位"]["D1"] = "负责人姓名"

        failure = _failure(_edited_xlsx(tmp_path, rename))
        assert [_where(e) for e in failure.errors] == [("点位", 1, "负责人姓名")]
        assert "负责人姓名" in failure.errors[0].reason_zh

    def test_a_missing_required_column_is_named(self, tmp_path: Path) -> None:
        def drop(workbook: Workbook) -> None:
            workbook["点位"].delete_cols(2)

        failure = _failure(_edited_xlsx(tmp_path, drop))
        assert [_where(e) for e in failure.errors] == [("点位", 1, "类别")]

    def test_english_or_bilingual_headers_and_sheet_names_are_accepted(
        self, tmp_path: Path, sample: CommunityPlan
    ) -> None:
        def english(workbook: Workbook) -> None:
            workbook["点位"].title = "Sites"
            workbook["楼栋"].title = "楼栋 buildings"
            for cell, text in zip(
                workbook["Sites"][1],
                ["Name", "CATEGORY", "zone code", "contact", "Phone", "address", "lat", "lon"],
                strict=True,
            ):
                cell.value = text
            workbook["楼栋 buildings"]["C1"] = "纬度 latitude"

        assert load_plan(_edited_xlsx(tmp_path, english)) == sample

    def test_blank_and_comment_rows_are_skipped_and_rows_keep_their_numbers(
        self, tmp_path: Path, sample: CommunityPlan
    ) -> None:
        def spaced(workbook: Workbook) -> None:
            sheet = workbook["点位"]
            sheet.insert_rows(3, 2)
            sheet["A3"] = "# 以下为东片区"
            sheet["E10"] = "138"

        failure = _failure(_edited_xlsx(tmp_path, spaced))
        assert [_where(e) for e in failure.errors] == [("点位", 10, "电话")]

    def test_a_value_in_a_column_without_header_is_reported(self, tmp_path: Path) -> None:
        def stray(workbook: Workbook) -> None:
            workbook["楼栋"]["F3"] = "备注"

        failure = _failure(_edited_xlsx(tmp_path, stray))
        assert [_where(e) for e in failure.errors] == [("楼栋", 3, "F列")]

    def test_a_missing_sheet_is_reported(self, tmp_path: Path) -> None:
        def drop(workbook: Workbook) -> None:
            del workbook["片区"]

        failure = _failure(_edited_xlsx(tmp_path, drop))
        assert [_where(e) for e in failure.errors] == [("c.xlsx", 0, None)]
        assert "片区" in failure.errors[0].reason_zh

    def test_an_unknown_sheet_with_content_is_reported_but_an_empty_one_ignored(
        self, tmp_path: Path
    ) -> None:
        def extra(workbook: Workbook) -> None:
            workbook.create_sheet("Sheet1")
            workbook.create_sheet("统计")["A1"] = "合计"

        failure = _failure(_edited_xlsx(tmp_path, extra))
        assert [_where(e) for e in failure.errors] == [("统计", 0, None)]

    def test_numbers_typed_into_cells_are_read_as_text(self, tmp_path: Path) -> None:
        def numeric(workbook: Workbook) -> None:
            workbook["片区"]["D2"] = 13857101234
            workbook["片区"]["E2"] = 123456789
            workbook["点位"]["E5"] = 57188123401  # the leading 0 is lost in a number cell

        failure = _failure(_edited_xlsx(tmp_path, numeric))
        assert [_where(e) for e in failure.errors] == [("点位", 5, "电话")]
        assert "文本" in failure.errors[0].reason_zh

    def test_deputies_are_read_from_one_cell(self, tmp_path: Path) -> None:
        def deputies(workbook: Workbook) -> None:
            workbook["片区"]["F3"] = "周红:13900001111；吴刚：0571-88880000; 郑芳"

        plan = load_plan(_edited_xlsx(tmp_path, deputies))
        assert [(d.name, d.phone) for d in plan.zones[1].deputies] == [
            ("周红", "13900001111"),
            ("吴刚", "0571-88880000"),
            ("郑芳", None),
        ]

    def test_a_bad_deputy_phone_names_the_deputy(self, tmp_path: Path) -> None:
        def deputies(workbook: Workbook) -> None:
            workbook["片区"]["F3"] = "周红:139"

        failure = _failure(_edited_xlsx(tmp_path, deputies))
        assert [_where(e) for e in failure.errors] == [("片区", 3, "副责任人")]
        assert "周红" in failure.errors[0].reason_zh

    def test_a_row_with_several_problems_reports_each_of_them(self, tmp_path: Path) -> None:
        def several(workbook: Workbook) -> None:
            sheet = workbook["点位"]
            sheet["C3"], sheet["E3"], sheet["H3"] = "Z9", "1234", None

        failure = _failure(_edited_xlsx(tmp_path, several))
        assert [_where(e) for e in failure.errors] == [
            ("点位", 3, "片区编码"),
            ("点位", 3, "电话"),
            ("点位", 3, "经度"),
        ]

    def test_a_zone_name_in_the_zone_code_column_gets_a_hint(self, tmp_path: Path) -> None:
        def by_name(workbook: Workbook) -> None:
            workbook["楼栋"]["B2"] = "东片区"

        failure = _failure(_edited_xlsx(tmp_path, by_name))
        assert [_where(e) for e in failure.errors] == [("楼栋", 2, "片区编码")]
        assert "Z1" in failure.errors[0].reason_zh

    def test_a_bad_zone_row_does_not_orphan_its_buildings(self, tmp_path: Path) -> None:
        def bad_cadre_phone(workbook: Workbook) -> None:
            workbook["片区"]["D2"] = "1385710"

        failure = _failure(_edited_xlsx(tmp_path, bad_cadre_phone))
        assert [_where(e) for e in failure.errors] == [("片区", 2, "责任人电话")]

    def test_an_unknown_timezone_is_reported(self, tmp_path: Path) -> None:
        def timezone(workbook: Workbook) -> None:
            workbook["社区"]["B4"] = "Asia/Beijing"

        failure = _failure(_edited_xlsx(tmp_path, timezone))
        assert [_where(e) for e in failure.errors] == [("社区", 4, "时区")]

    def test_a_blank_timezone_defaults_to_shanghai(self, tmp_path: Path) -> None:
        def timezone(workbook: Workbook) -> None:
            workbook["社区"]["B4"] = None

        assert load_plan(_edited_xlsx(tmp_path, timezone)).timezone == "Asia/Shanghai"

    def test_a_file_that_is_not_a_zip_is_reported(self, tmp_path: Path) -> None:
        path = tmp_path / "old.xlsx"
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old .xls file")
        failure = _failure(path)
        assert [_where(e) for e in failure.errors] == [("old.xlsx", 0, None)]
        assert ".xlsx" in failure.errors[0].reason_en

    def test_a_zip_that_is_not_a_workbook_is_reported(self, tmp_path: Path) -> None:
        path = tmp_path / "photos.xlsx"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("photo.txt", "not a workbook")
        assert "not a valid .xlsx" in str(_failure(path))


class TestFileProblems:
    @pytest.mark.parametrize("name", ["empty.xlsx", "empty.yaml", "empty.csv"])
    def test_an_empty_file_is_reported(self, tmp_path: Path, name: str) -> None:
        path = tmp_path / name
        path.write_bytes(b"")
        failure = _failure(path, community_code="xingfuli")
        assert [e.reason_en for e in failure.errors] == ["the file is empty"]

    def test_a_yaml_file_with_only_comments_is_empty(self, tmp_path: Path) -> None:
        path = tmp_path / "c.yaml"
        path.write_text("# nothing yet\n", encoding="utf-8")
        assert str(_failure(path)) == "c.yaml: 文件里没有任何内容 (the file is empty)"

    def test_a_missing_file_is_reported(self, tmp_path: Path) -> None:
        failure = _failure(tmp_path / "nope.xlsx")
        assert failure.errors[0].reason_en.startswith("file not found")

    @pytest.mark.parametrize(("name", "hint"), [("c.xls", "save .xls"), ("c.json", "use .xlsx")])
    def test_an_unsupported_suffix_is_reported(self, tmp_path: Path, name: str, hint: str) -> None:
        path = tmp_path / name
        path.write_text("x", encoding="utf-8")
        assert hint in str(_failure(path))


class TestCsv:
    def test_a_csv_needs_the_community_code(self) -> None:
        failure = _failure(SAMPLE_CSV)
        assert "--community" in failure.errors[0].reason_en

    @pytest.mark.parametrize(
        ("header", "kind"),
        [
            ("编码,名称,责任人,责任人电话", TableKind.ZONES),
            ("name,zone_code,lat,lon", TableKind.BUILDINGS),
            ("名称,片区编码", TableKind.BUILDINGS),
            ("名称,类别,片区编码,电话", TableKind.SITES),
        ],
    )
    def test_the_table_is_recognised_from_its_header(
        self, tmp_path: Path, header: str, kind: TableKind
    ) -> None:
        path = tmp_path / "t.csv"
        path.write_text(header + "\n", encoding="utf-8")
        assert load_table_kind(path) is kind

    def test_an_unrecognisable_header_is_reported(self, tmp_path: Path) -> None:
        path = tmp_path / "t.csv"
        path.write_text("序号,备注\n1,x\n", encoding="utf-8")
        assert "cannot tell which table" in str(_failure(path, community_code="xingfuli"))

    def test_a_zones_csv_adds_zones(self, tmp_path: Path) -> None:
        path = tmp_path / "zones.csv"
        path.write_text(
            "编码,名称,责任人,责任人电话,副责任人\n"
            "Z4,南片区,孔德明,138 5710 4680,周红:13900001111\n",
            encoding="utf-8",
        )
        plan = load_plan(path, community_code="xingfuli")
        assert plan.partial and plan.zone_codes == ("Z4",)
        assert plan.zones[0].cadre is not None and plan.zones[0].cadre.phone == "13857104680"

    def test_a_csv_may_refer_to_zones_that_are_already_stored(self, tmp_path: Path) -> None:
        path = tmp_path / "b.csv"
        path.write_text("名称,片区编码\n7号楼,Z7\n", encoding="utf-8")
        plan = load_plan(path, community_code="xingfuli")
        assert plan.buildings[0].zone_code == "Z7"

    def test_csv_rows_are_numbered_like_excel_rows(self, tmp_path: Path) -> None:
        lines = SAMPLE_CSV.read_text(encoding="utf-8-sig").splitlines()
        lines[3] = lines[3].replace("13805711003", "1380571")
        lines.insert(2, "")
        path = tmp_path / "sites.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        failure = _failure(path, community_code="xingfuli")
        assert [_where(e) for e in failure.errors] == [("sites.csv", 5, "电话")]

    def test_an_unknown_csv_column_is_named(self, tmp_path: Path) -> None:
        path = tmp_path / "sites.csv"
        path.write_text("名称,类别,片区编码,备注\n和平街,主次干道,Z3,x\n", encoding="utf-8")
        failure = _failure(path, community_code="xingfuli")
        assert [_where(e) for e in failure.errors] == [("sites.csv", 1, "备注")]

    def test_a_gbk_csv_imports_like_the_utf8_one(self, tmp_path: Path) -> None:
        gbk, utf8 = tmp_path / "gbk.csv", tmp_path / "utf8.csv"
        gbk.write_bytes(csv_gbk())
        utf8.write_text(GBK_SITES_TEXT, encoding="utf-8")
        plan = load_plan(gbk, community_code="xingfuli")
        assert plan == load_plan(utf8, community_code="xingfuli")
        assert plan.sites[-1].name == GBK_EXTRA_SITE and plan.sites[-1].contact == "周洁"

    def test_a_gb18030_only_character_is_read(self, tmp_path: Path) -> None:
        path = tmp_path / "gb.csv"
        # 𠀀 is outside GBK; Excel on a GB18030 system writes it as four bytes.
        path.write_bytes("名称,类别,片区编码\n𠀀街,主次干道,Z3\n".encode("gb18030"))
        plan = load_plan(path, community_code="xingfuli")
        assert [site.name for site in plan.sites] == ["𠀀街"]

    def test_a_csv_in_neither_utf8_nor_gbk_is_reported(self, tmp_path: Path) -> None:
        path = tmp_path / "unicode.csv"
        # Excel's "Unicode text" is UTF-16 with a BOM, which no GBK decoder takes.
        path.write_bytes("名称,类别,片区编码\n和平街,主次干道,Z3\n".encode("utf-16"))
        failure = _failure(path, community_code="xingfuli")
        assert [_where(e) for e in failure.errors] == [("unicode.csv", 0, None)]
        assert "UTF-8 or GBK" in failure.errors[0].reason_en

    def test_a_binary_file_named_csv_is_reported(self, tmp_path: Path) -> None:
        path = tmp_path / "sites.csv"
        path.write_bytes(SAMPLE_XLSX.read_bytes())
        assert "not a text CSV" in str(_failure(path, community_code="xingfuli"))

    def test_a_flood_of_rows_is_refused_while_reading(self, tmp_path: Path) -> None:
        path = tmp_path / "sites.csv"
        path.write_text("名称,类别,片区编码\n" + "\n" * (MAX_CSV_ROWS + 5), encoding="utf-8")
        failure = _failure(path, community_code="xingfuli")
        assert f"past row {MAX_CSV_ROWS}" in failure.errors[0].reason_en

    def test_a_bad_community_code_is_reported(self) -> None:
        failure = _failure(SAMPLE_CSV, community_code="幸福里")
        assert failure.errors[0].reason_zh.startswith("社区编码")


class TestYaml:
    def test_errors_name_the_section_and_item_number(self, tmp_path: Path) -> None:
        def bad(data: dict[str, object]) -> None:
            sites = data["sites"]
            assert isinstance(sites, list)
            sites[2]["phone"] = "12345"
            sites[4]["colour"] = "red"

        failure = _failure(_edited_yaml(tmp_path, bad))
        assert [_where(e) for e in failure.errors] == [
            ("sites", 3, "phone"),
            ("sites", 5, "colour"),
        ]
        assert str(failure.errors[0]).startswith("sites 第3项 [phone]: 电话号码格式不对")

    def test_cadre_problems_use_the_yaml_path(self, tmp_path: Path) -> None:
        def bad(data: dict[str, object]) -> None:
            zones = data["zones"]
            assert isinstance(zones, list)
            zones[1]["cadre"]["telegram_id"] = -3

        failure = _failure(_edited_yaml(tmp_path, bad))
        assert [_where(e) for e in failure.errors] == [("zones", 2, "cadre.telegram_id")]

    def test_an_unquoted_yes_or_no_is_explained(self, tmp_path: Path) -> None:
        path = tmp_path / "c.yaml"
        text = SAMPLE_YAML.read_text(encoding="utf-8").replace("code: Z2", "code: no")
        path.write_text(text, encoding="utf-8")
        failure = _failure(path)
        assert _where(failure.errors[0]) == ("zones", 2, "code")
        assert "quotes" in failure.errors[0].reason_en

    def test_a_syntax_error_gives_the_line(self, tmp_path: Path) -> None:
        path = tmp_path / "c.yaml"
        path.write_text("community:\n  code: [x\nzones: []\n", encoding="utf-8")
        assert "line" in str(_failure(path))

    def test_missing_sections_are_reported(self, tmp_path: Path) -> None:
        path = tmp_path / "c.yaml"
        path.write_text("buildings: []\n", encoding="utf-8")
        failure = _failure(path)
        assert [e.column for e in failure.errors] == ["community", "zones"]

    def test_a_plan_written_back_to_yaml_loads_unchanged(
        self, tmp_path: Path, sample: CommunityPlan
    ) -> None:
        def person(ref: object) -> dict[str, object] | None:
            return None if ref is None else {"name": ref.name, "phone": ref.phone}  # type: ignore[attr-defined]

        data = {
            "community": {"code": sample.code, "name": sample.name, "timezone": sample.timezone},
            "zones": [
                {
                    "code": z.code,
                    "name": z.name,
                    "cadre": person(z.cadre),
                    "deputies": [person(d) for d in z.deputies],
                }
                for z in sample.zones
            ],
            "buildings": [
                {"name": b.name, "zone_code": b.zone_code, "lat": b.lat, "lon": b.lon}
                for b in sample.buildings
            ],
            "sites": [
                {
                    "name": s.name,
                    "category": s.category,
                    "zone_code": s.zone_code,
                    "contact": s.contact,
                    "phone": s.phone,
                    "address": s.address,
                    "lat": s.lat,
                    "lon": s.lon,
                }
                for s in sample.sites
            ],
        }
        path = tmp_path / "c.yml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        assert load_plan(path) == sample


class TestCraftedFiles:
    """Files made to stall the bot are refused from their size and shape, not by reading."""

    def test_a_zip_bomb_is_refused_from_its_listed_sizes(self, tmp_path: Path) -> None:
        path = tmp_path / "ledger.xlsx"
        path.write_bytes(xlsx_zip_bomb())
        failure = _failure(path)
        assert [_where(e) for e in failure.errors] == [("ledger.xlsx", 0, None)]
        assert "399 MB" in failure.errors[0].reason_en
        assert "解压后异常大" in failure.errors[0].reason_zh

    def test_one_swollen_member_is_refused_though_the_total_is_small(self, tmp_path: Path) -> None:
        path = tmp_path / "ledger.xlsx"
        with (
            zipfile.ZipFile(SAMPLE_XLSX) as sample,
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            for info in sample.infolist():
                archive.writestr(info, sample.read(info))
            archive.writestr("xl/media/blank.xml", bytes(8 * 1024 * 1024))
        assert "abnormal size" in str(_failure(path))

    def test_a_zip_of_too_many_parts_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "ledger.xlsx"
        with (
            zipfile.ZipFile(SAMPLE_XLSX) as sample,
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            for info in sample.infolist():
                archive.writestr(info, sample.read(info))
            for number in range(MAX_MEMBERS):
                archive.writestr(f"xl/media/{number}.txt", "")
        assert "abnormal size" in str(_failure(path))

    def test_a_sheet_of_100000_rows_stops_at_the_row_limit(self, tmp_path: Path) -> None:
        path = tmp_path / "ledger.xlsx"
        path.write_bytes(xlsx_100000_rows())
        failure = _failure(path)
        assert [_where(e) for e in failure.errors] == [("点位", MAX_ROWS_PER_TABLE + 2, None)]
        assert f"at most {MAX_ROWS_PER_TABLE}" in failure.errors[0].reason_en

    def test_a_far_away_blank_row_is_refused_while_streaming(self, tmp_path: Path) -> None:
        def far(workbook: Workbook) -> None:
            # openpyxl yields an empty row for every row number skipped before this one.
            workbook["点位"].cell(row=MAX_SHEET_ROWS + 10, column=1, value="#")

        failure = _failure(_edited_xlsx(tmp_path, far))
        assert [_where(e) for e in failure.errors] == [("点位", 0, None)]
        assert f"past row {MAX_SHEET_ROWS}" in failure.errors[0].reason_en

    def test_a_cell_in_the_last_column_does_not_widen_every_row(self, tmp_path: Path) -> None:
        def wide(workbook: Workbook) -> None:
            workbook["点位"].cell(row=3, column=16384, value="x")

        # Read as a cell without a header (past column CV it is not read at all).
        assert load_plan(_edited_xlsx(tmp_path, wide)).sites == load_plan(SAMPLE_XLSX).sites

    def test_a_billion_laughs_yaml_is_refused_at_its_first_alias(self, tmp_path: Path) -> None:
        path = tmp_path / "laughs.yaml"
        path.write_bytes(yaml_billion_laughs())
        failure = _failure(path)
        assert [_where(e) for e in failure.errors] == [("laughs.yaml", 0, None)]
        assert failure.errors[0].reason_en.startswith("line 4 uses a YAML alias (*n0)")

    def test_deep_nesting_in_yaml_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "deep.yaml"
        path.write_text("zones: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
        failure = _failure(path)
        assert f"at most {MAX_DEPTH} levels" in failure.errors[0].reason_en


class TestWorker:
    """load_plan_isolated reads in a child process and answers like load_plan."""

    async def test_the_sample_reads_the_same_in_the_worker(self, sample: CommunityPlan) -> None:
        assert await load_plan_isolated(SAMPLE_XLSX) == sample

    async def test_row_errors_come_back_whole(self) -> None:
        with pytest.raises(ImportFailed) as caught:
            await load_plan_isolated(BROKEN_XLSX)
        assert caught.value.errors == _failure(BROKEN_XLSX).errors

    async def test_a_csv_gets_its_community_code(self, tmp_path: Path) -> None:
        path = tmp_path / "gbk.csv"
        path.write_bytes(csv_gbk())
        plan = await load_plan_isolated(path, community_code="xingfuli")
        assert plan == load_plan(path, community_code="xingfuli")
        assert len(plan.sites) == 13

    async def test_a_file_not_read_in_time_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "ledger.xlsx"
        path.write_bytes(xlsx_100000_rows())
        with pytest.raises(ImportFailed) as caught:
            await load_plan_isolated(path, time_limit_s=0)
        assert [_where(e) for e in caught.value.errors] == [("ledger.xlsx", 0, None)]
        assert "could not be read within 0 s" in caught.value.errors[0].reason_en

    async def test_more_imports_at_once_than_workers_are_asked_to_wait(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "ledger.xlsx"
        path.write_bytes(xlsx_100000_rows())
        reading = [asyncio.create_task(load_plan_isolated(path)) for _ in range(MAX_WORKERS)]
        await asyncio.sleep(0)  # each has taken its place and is starting its process
        with pytest.raises(ImportFailed) as caught:
            await load_plan_isolated(SAMPLE_XLSX)
        assert "send this one again in a minute" in caught.value.errors[0].reason_en
        for task in reading:
            with pytest.raises(ImportFailed):
                await task
        assert await load_plan_isolated(SAMPLE_XLSX) == load_plan(SAMPLE_XLSX)


class TestRowErrorText:
    @pytest.mark.parametrize(
        ("error", "zh", "en"),
        [
            (
                RowError("片区", 5, "电话", "电话号码格式不对", "bad phone"),
                "片区 第5行 [电话]: 电话号码格式不对",
                "片区 row 5 [电话]: bad phone",
            ),
            (
                RowError("sites", 3, "phone", "不对", "wrong", item=True),
                "sites 第3项 [phone]: 不对",
                "sites item 3 [phone]: wrong",
            ),
            (RowError("a.yaml", 0, None, "空", "empty"), "a.yaml: 空", "a.yaml: empty"),
        ],
    )
    def test_a_problem_reads_in_one_language(self, error: RowError, zh: str, en: str) -> None:
        assert (error.text(english=False), error.text(english=True)) == (zh, en)
