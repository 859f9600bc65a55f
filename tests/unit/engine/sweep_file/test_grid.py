"""The points of a grid sweep (engine/sweep_file/grid.py): the product in the written order, and the grid of a quantised
law is the support of its draws."""

from data_juicer_hpo.engine import grid_points, parse_sweep_config

from tests.helpers.sweep_files import draws, spec


def test_grid_points_cover_the_product_in_the_written_order():
    raw = {
        "method": "grid",
        "parameters": {
            "c": {"values": ["x", "y"]},
            "k": {"value": 7},
            "i": {"min": 1, "max": 3},
            "q": {"distribution": "q_uniform", "min": 0, "max": 10, "q": 5},
        },
    }
    points = grid_points(parse_sweep_config(raw))
    assert len(points) == 2 * 3 * 3
    assert points[0] == {"c": "x", "k": 7, "i": 1, "q": 0}
    assert points[1] == {"c": "x", "k": 7, "i": 1, "q": 5}
    assert points[-1] == {"c": "y", "k": 7, "i": 3, "q": 10}
    assert len({tuple(p.values()) for p in points}) == len(points)


def test_q_uniform_grid_is_the_support_of_its_random_draws():
    # 1/2 and 9/2 round (half to even) to 0 and 4 only at the bounds themselves, a zero-probability event
    param = spec({"distribution": "q_uniform", "min": 1, "max": 9, "q": 2})
    assert param.grid_values() == [2, 4, 6, 8]
    assert set(draws(param, n=2000)) == set(param.grid_values())
