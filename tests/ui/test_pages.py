"""`memento ui` driven in headless Chromium over real eval runs and a real case bank: the runs list, a
run's metrics, curves and task filters, a trajectory, comparing runs, searching the bank, quarantining a
case (it leaves retrieval), memory health, and an eval's progress arriving live."""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest
from playwright.sync_api import expect

from memento_client.eval.runfiles import read_jsonl
from tests.ui.conftest import OFF, QUESTIONS, SIMILARITY, eval_args, eval_process, snap

pytestmark = pytest.mark.browser


def test_runs_list_shows_each_run_with_status_metrics_and_cost(page, ui, runs):
    page.goto(f"{ui}/#/runs")
    rows = page.locator("#runs tbody tr")
    rows.first.wait_for()
    assert {rows.nth(i).get_attribute("data-run") for i in range(rows.count())} >= {OFF, SIMILARITY}
    row = page.locator(f'tr[data-run="{SIMILARITY}"]')
    cells = row.locator("td").all_inner_texts()
    assert cells[2:4] == ["eval", "finished"] and cells[4].strip() == "8/8" and cells[5] == "similarity"
    assert cells[6:8] == ["0.500", "0.700"]  # EM: Paris., Jupiter right; F1 adds 0.8 for "Barack Obama Jr."
    usage = [r["usage"] for i in (1, 2) for r in read_jsonl(runs[SIMILARITY] / f"iter-{i}" / "results.jsonl")]
    assert int(cells[9]) == sum(u["prompt_tokens"] + u["completion_tokens"] for u in usage) > 0
    snap(page, "runs")


def test_run_detail_metrics_curves_overlay_and_task_filters(page, ui):
    page.goto(f"{ui}/#/run/{SIMILARITY}")
    page.locator("#iterations tbody tr").nth(1).wait_for()
    iterations = [page.locator("#iterations tbody tr").nth(i).locator("td").all_inner_texts() for i in range(2)]
    assert iterations == [["1", "4", "0.500", "0.700", "–", "0", "0"], ["2", "4", "0.500", "0.700", "–", "0", "0"]]
    sources = page.locator("#sources tbody tr").all_inner_texts()
    assert len(sources) == 4 and any(s.split("\t")[:4] == ["1", "hotpotqa", "2", "0.000"] for s in sources)
    assert page.locator("#curves svg path[data-series]").count() == 2  # EM and F1 of this run
    page.locator(f'input[value="{OFF}"]').check()
    expect(page.locator("#curves svg path[data-series]")).to_have_count(4)
    assert f"EM · {OFF} (memory off)" in page.locator("#curves .legend").inner_text()
    tasks = page.locator("#tasks tbody tr")
    assert tasks.count() == 8
    page.locator("#wrong-only").check()
    assert sorted(tasks.nth(i).get_attribute("data-task") for i in range(tasks.count())) == ["q3", "q3", "q4", "q4"]
    page.locator("#source-filter").select_option("nq")
    assert tasks.count() == 0  # both nq answers are right
    page.locator("#wrong-only").uncheck()
    page.locator("#iteration-filter").select_option("2")
    assert sorted(tasks.nth(i).get_attribute("data-task") for i in range(tasks.count())) == ["q1", "q2"]
    page.locator("#source-filter").select_option("")
    snap(page, "run")


def test_trajectory_timeline_links_cases_and_tool_calls(page, ui):
    page.goto(f"{ui}/#/run/{SIMILARITY}")
    page.locator('#tasks tr[data-task="q1"] a[href*="/task/"]').last.click()  # iteration 2: it retrieved iteration 1's cases
    timeline = page.locator("#timeline")
    timeline.wait_for()
    kinds = [timeline.locator("> li").nth(i).get_attribute("data-kind") for i in range(timeline.locator("> li").count())]
    assert kinds[:3] == ["task", "cases", "plan"] and kinds[-3:] == ["answer", "reward", "case_written"]
    tool = timeline.locator('li[data-kind="tool"]').first
    assert "toy__echo" in tool.inner_text() and json.loads(tool.locator("pre.arguments").inner_text()) == {"text": "look"}
    result = tool.locator("details")
    assert not result.locator("pre").is_visible()
    result.locator("summary").click()
    assert "look" in result.locator("pre").inner_text()  # the echo tool's result, shown on demand
    retrieved = timeline.locator('li[data-kind="cases"] a[data-case]')
    assert retrieved.count() == 3  # the other three questions' cases from iteration 1: never its own
    assert "Paris." in page.locator(".cards").inner_text()
    snap(page, "trajectory")
    case = retrieved.first.get_attribute("data-case")
    retrieved.first.click()
    provenance = page.locator("#provenance tbody tr")
    provenance.first.wait_for()
    assert page.locator("h1").inner_text() == f"Case {case}"
    rows = [row.split("\t") for row in provenance.all_inner_texts()]  # when, run, task, iteration, question, reward, EM
    assert [SIMILARITY, "q1", "2", "Capital of France?"] in [row[1:5] for row in rows]  # the bank's record, linked to the local task
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[0]) for row in rows)  # when the bank recorded it
    page.locator("#provenance tbody tr", has_text="Capital of France?").locator('a[href*="/task/q1/2"]').click()
    page.locator("#timeline").wait_for()
    assert page.url.endswith(f"#/run/{SIMILARITY}/task/q1/2")


def test_compare_two_runs_task_by_task(page, ui):
    page.goto(f"{ui}/#/runs")
    page.locator(f'tr[data-run="{OFF}"] input').check()
    page.locator(f'tr[data-run="{SIMILARITY}"] input').check()
    page.locator("#compare").click()
    rows = page.locator("#compare-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 4
    assert rows.nth(0).locator("td").all_inner_texts()[2:5] == ["Paris.", "1", "1.00"]


def _search(page, task: str) -> dict[str, list[str]]:
    page.fill('#search input[name="q"]', task)
    page.locator("#search button").click()
    page.locator('#results [data-policy="learned"]').wait_for()
    found = {}
    for policy in ("similarity", "learned"):
        column = page.locator(f'#results [data-policy="{policy}"] tr[data-case-row]')
        found[policy] = [column.nth(i).get_attribute("data-case-row") for i in range(column.count())]
    return found


def _cases(page) -> int:
    """How many cases the bank page's list says there are."""
    page.locator("#case-list tbody tr").first.wait_for()
    return int(page.locator("#case-list p").inner_text().split()[0])


def test_bank_search_and_quarantine_removes_a_case_from_retrieval(page, ui, runs):
    page.goto(f"{ui}/#/bank")
    written = {r["case_id"] for i in (1, 2) for r in read_jsonl(runs[SIMILARITY] / f"iter-{i}" / "results.jsonl")}
    total = _cases(page)
    assert len(written) == 8 and total >= 7  # 4 questions x 2 iterations (the delete test may have removed one)
    found = _search(page, "Capital of France?")
    assert len(found["similarity"]) == total and sorted(found["similarity"]) == sorted(found["learned"])
    assert set(found["similarity"]) <= written
    snap(page, "bank")
    target = found["similarity"][0]
    page.locator(f'#results [data-policy="similarity"] a[data-case="{target}"]').click()
    page.locator("#quarantine").click()
    page.locator("#trust.quarantined").wait_for()
    page.goto(f"{ui}/#/bank")
    after = _search(page, "Capital of France?")
    assert target not in after["similarity"] and target not in after["learned"] and len(after["similarity"]) == total - 1
    page.locator('#search input[name="include_quarantined"]').check()
    assert target in _search(page, "Capital of France?")["similarity"]
    page.goto(f"{ui}/#/case/{target}")
    page.locator("#restore").click()
    page.locator("#trust.trusted").wait_for()


def test_case_reward_edit_and_delete_with_confirmation(page, ui):
    page.goto(f"{ui}/#/bank")
    total = _cases(page)
    case = page.locator("#case-list tr[data-case-row]").first.get_attribute("data-case-row")
    page.goto(f"{ui}/#/case/{case}")
    page.locator("#reward-input").fill("0.3")
    page.locator("#save-reward").click()
    expect(page.locator(".cards b").first).to_have_text("0.30")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#delete").click()  # dismissed: nothing happens
    page.goto(f"{ui}/#/bank")
    page.locator(f'#case-list tr[data-case-row="{case}"]').wait_for()
    page.goto(f"{ui}/#/case/{case}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete").click()
    page.locator("#case-list p").wait_for()
    assert _cases(page) == total - 1 and page.locator(f'tr[data-case-row="{case}"]').count() == 0


def test_memory_health_shows_the_bank_and_the_learned_policy(page, ui):
    page.goto(f"{ui}/#/health")
    page.locator("#bank-stats").wait_for()
    stats = page.locator("#bank-stats").inner_text()
    assert "cases\n" in stats and "index\nexact" in stats
    assert "transitions" in page.locator("#scorer").inner_text()
    assert page.locator("#gate").inner_text().startswith("gate ")
    snap(page, "health")


def test_a_running_eval_updates_live(page, ui, home, fake, workspace):
    fake.responder.delay = 0.25  # each model reply takes a while, so the run lasts a few seconds
    name = "eval-live"
    process = eval_process(home, fake, eval_args(workspace, home / "data" / "runs" / name, "toy.json", "--memory", "off", "--concurrency", "1"))
    try:
        page.goto(f"{ui}/#/runs")
        deadline = time.monotonic() + 60
        while page.locator(f'tr[data-run="{name}"]').count() == 0:
            assert time.monotonic() < deadline and process.poll() is None, "the eval never appeared"
            page.wait_for_timeout(200)
            page.reload()
        page.locator(f'tr[data-run="{name}"] a').click()
        page.locator('#live[data-status="running"]').wait_for()
        page.evaluate("window.notReloaded = true")
        seen, flying = set(), []  # progress values; the in-flight task ids, in the order they were shown
        while page.locator('#live[data-status="finished"]').count() == 0:
            assert time.monotonic() < deadline, f"no end seen; progress seen: {seen}"
            bar = page.locator("#live [role=progressbar]")
            if bar.count():
                seen.add(int(bar.get_attribute("aria-valuenow") or 0))
            now = page.locator("#live ul.running li").evaluate_all("items => items.map((li) => [li.dataset.task, li.textContent])")
            for task, text in now:
                assert "running" in text and next(q["question"] for q in QUESTIONS if q["id"] == task) in text
                if not flying or flying[-1] != task:
                    flying.append(task)
            page.wait_for_timeout(50)
        assert {1, 2, 3} & seen, f"no intermediate progress seen: {seen}"  # steps arrived one by one
        assert len(flying) >= 2 and len(set(flying)) == len(flying), flying  # one at a time (concurrency 1): each came and went
        assert "4/4 tasks" in page.locator("#live").inner_text()
        assert page.locator("#live ul.running").count() == 0  # nothing in flight once it finished
        assert page.evaluate("window.notReloaded") is True  # by server-sent events, not by reloading
        assert process.wait(30) == 0
        record = json.loads((home / "data" / "runs" / name / "progress.json").read_text())
        assert (record["started"], record["finished"], record["in_flight"]) == (4, 4, [])
    finally:
        fake.responder.delay = 0.0
        if process.poll() is None:
            process.kill()
            process.wait()


def test_markup_in_a_trajectory_is_shown_as_text_never_run(page, ui, runs, home):
    """Tool output comes from the web: a page's HTML in it must show as text, not run in the UI."""
    attack = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    copy = home / "data" / "runs" / "eval-hostile"
    shutil.copytree(runs[SIMILARITY], copy)
    try:
        trajectories = copy / "iter-1" / "trajectories.jsonl"
        rows = [json.loads(line) for line in trajectories.read_text().splitlines()]
        for row in rows:
            row["question"] = attack
            for event in row["events"]:
                if event["kind"] == "tool":
                    event["output"] = attack
        trajectories.write_text("".join(json.dumps(r) + "\n" for r in rows))
        page.goto(f"{ui}/#/run/eval-hostile/task/q1/1")
        tool = page.locator('#timeline li[data-kind="tool"]').first
        tool.locator("summary").click()
        assert tool.locator("details pre").inner_text() == attack and page.locator("h1").inner_text() == attack
        assert page.locator("#main img, #main script").count() == 0
        assert page.evaluate("window.pwned === undefined")
    finally:
        shutil.rmtree(copy)
