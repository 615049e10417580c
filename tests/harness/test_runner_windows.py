"""Second and third windows (`attach_client`): each is its own surface, judged like the first."""

from __future__ import annotations

from pathlib import Path

from harness.runner import run_scenario
from harness.scenario.loader import load_scenario

SCENARIO = Path(__file__).parents[2] / "scenarios" / "library" / "second-client-attaches.yaml"


async def test_each_attach_is_one_more_window_held_to_the_scenario_by_surface_kind(
    tmp_path: Path,
) -> None:
    text = SCENARIO.read_text().replace("  - attach_client\n  - step\n",
                                        "  - attach_client\n  - step\n  - attach_client\n")
    # Scoped by surface kind: "store" must also cover store#2 and store#3.
    text = text.replace(
        "    - FROZEN-UNTIL-RELOAD: [sessions.cost, session.cost, session.tokens]\n",
        "    - FROZEN-UNTIL-RELOAD: [sessions.cost]\n      surfaces: [store]\n"
        "    - FROZEN-UNTIL-RELOAD: [session.cost, session.tokens]\n      surfaces: [protocol]\n",
    )
    path = tmp_path / "three-windows.yaml"
    path.write_text(text)

    result = await run_scenario(load_scenario(path), "client", surfaces=("store", "protocol"),
                                runs_dir=tmp_path / "runs")

    assert result.history.error is None
    assert list(result.verdict.surfaces) == [
        "store", "protocol", "store#2", "protocol#2", "store#3", "protocol#3"
    ]
    assert result.verdict.ok, [(s, v.status, v.unexpected, v.missing)
                               for s, v in result.verdict.surfaces.items()]
    last = result.history.checkpoints[-1].readings
    assert last["store#3"]["sidebar.cost"].live == last["store"]["sidebar.cost"].live == "$0.18"
