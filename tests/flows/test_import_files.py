"""/import of files made to stall the bot: the admin gets a clear answer and nobody else
waits for it (issue 11). The files are built here; see tests/crafted_imports.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from bot.domain.models import Language, Role
from bot.i18n import t
from tests.crafted_imports import (
    GBK_EXTRA_SITE,
    csv_gbk,
    xlsx_100000_rows,
    xlsx_zip_bomb,
    yaml_billion_laughs,
)
from tests.factories import SAMPLE_YAML
from tests.flows.conftest import Harness, running_harness
from tests.flows.reporting import has

# One bot serves the whole module (module-scoped), so it keeps the embedded default
# rather than following each test's backend.
pytestmark = pytest.mark.sqlite_only

# The harness's waits are bounds for a busy machine, not assertions of speed.
IMPORT_WAIT_S = 60.0

CRAFTED = [
    pytest.param("ledger.xlsx", xlsx_zip_bomb, "解压后异常大", id="xlsx_zip_bomb"),
    pytest.param("ledger.xlsx", xlsx_100000_rows, "行数太多（最多5000行）", id="xlsx_100000_rows"),
    pytest.param("ledger.yaml", yaml_billion_laughs, "YAML 别名", id="yaml_billion_laughs"),
    pytest.param("点位.csv", csv_gbk, "点位 13 个", id="csv_gbk"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def h(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path_factory.mktemp("import-files")) as harness:
        yield harness


async def _site_names(h: Harness) -> list[str]:
    async with h.services.db.read() as tx:
        return [site.name for site in await tx.sites.list_by_community(h.community.id)]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("file_name", "make", "answer"), CRAFTED)
async def test_a_crafted_import_is_answered_and_holds_up_nobody(
    h: Harness, file_name: str, make: Callable[[], bytes], answer: str
) -> None:
    neighbour = h.sandbox.add_user("邻居", language_code="zh-hans")
    await Harness.take_all(h.admin)
    sites_before = await _site_names(h)
    answered = len(h.admin.inbox)

    await h.admin.send_document(make(), file_name, caption="/import")
    await neighbour.send("/help")

    await neighbour.wait_for(has("使用帮助"), timeout=IMPORT_WAIT_S)
    # The neighbour's answer came while the file was still being read.
    assert len(h.admin.inbox) == answered, [m.text for m in h.admin.inbox[answered:]]
    result = await h.admin.wait_for(has(answer), timeout=IMPORT_WAIT_S)
    text = result.text or ""
    await h.settle()
    sites_after = await _site_names(h)
    if make is csv_gbk:
        assert text.startswith("✅ 导入完成")
        assert sorted(sites_after) == sorted([*sites_before, GBK_EXTRA_SITE])
    else:
        assert text.startswith("❌ 导入失败，没有导入任何内容")
        assert sorted(sites_after) == sorted(sites_before)
    assert h.admin.inbox[answered:] == [result]


@pytest.mark.asyncio(loop_scope="module")
async def test_an_english_admin_reads_the_refusal_in_english(h: Harness) -> None:
    admin = await h.with_role("Office Li", Role.ADMIN, language_code="en")
    await Harness.take_all(admin)
    await admin.send_document(xlsx_zip_bomb(), "ledger.xlsx", caption="/import")
    refused = await admin.wait_for(has("Import failed"), timeout=IMPORT_WAIT_S)
    text = refused.text or ""
    assert "ledger.xlsx: this .xlsx unpacks to an abnormal size (399 MB in 14 parts" in text
    assert "解压" not in text


@pytest.mark.asyncio(loop_scope="module")
async def test_a_community_admin_may_not_import_another_community(h: Harness) -> None:
    admin = h.people.get("Office Li") or await h.with_role(
        "Office Li", Role.ADMIN, language_code="en"
    )
    await Harness.take_all(admin)
    sample = SAMPLE_YAML.read_text(encoding="utf-8")
    other = sample.replace("code: xingfuli", "code: bieyuan", 1)
    assert other != sample
    await admin.send_document(other.encode("utf-8"), "other.yaml", caption="/import")
    refused = await admin.wait_for(lambda m: bool(m.text), timeout=IMPORT_WAIT_S)
    # Refused from the background task, still in the reader's language.
    assert refused.text == t(Language.EN, "errors.not_allowed")
    async with h.services.db.read() as tx:
        assert await tx.communities.find_by_code("bieyuan") is None
