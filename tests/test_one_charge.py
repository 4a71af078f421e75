"""One charge per mistake (README, "A mistake costs the tests of its own function"): in
each assignment, a known mistake in ONE function fails the tests it must fail, all of them
tests of that function, and every other test passes.

Each student is the reference's functions defined in one namespace, as a notebook's cells
define them (so a caller calls the wrong function), with one function's source replaced
(``tests/test_suite.py``'s machinery). Hidden tests draw what one grading run would draw.

Left out of "every other test passes": deep_mlp's training tests (``train_mlp``), which take a
minute per student and are graded apart (their own tests, with the student's own layers).
"""

import pytest

from autograder.demo import functions_in
from course_under_test import DMLP, FND
from test_suite import edited, failing_tests, reference_notebook, reference_source

NOT_CHECKED = {"deep_mlp": ("train_mlp",)}  # training: see the module's docstring


def demo_source(assignment, student, name):
    return functions_in(assignment.demo_dir / "students" / f"{student}.py")[name]


def variant(assignment, name, *pairs):
    """(name, the reference's source of ``name`` with ``pairs`` edited)."""
    return name, edited(reference_source(assignment, name), *pairs)


def fnd(name, *pairs):
    return variant(FND, name, *pairs)


def dmlp(name, *pairs):
    return variant(DMLP, name, *pairs)


ALL_JACOBIAN = ["softmax_jacobian_small_vector", "softmax_jacobian_batch",
                "softmax_jacobian_finite_differences"]
ALL_FIT_L1 = ["fit_l1_three_steps", "fit_l1_matches_reference"]
ALL_L1_SUBGRADIENT = ["l1_subgradient_worked_example", "l1_subgradient_at_a_perfect_fit",
                      "l1_subgradient_random_inputs"]
STAIRCASE_OF_BOXES = """
def staircase_network(B, heights):
    edges = np.linspace(-B, B, len(heights) + 1)
    boxes = [box_network(a, b, h) for a, b, h in zip(edges[:-1], edges[1:], heights)]
    return {"W1": np.hstack([box["W1"] for box in boxes]),
            "b1": np.concatenate([box["b1"] for box in boxes]),
            "W2": np.vstack([box["W2"] for box in boxes]), "b2": np.zeros(1)}
"""
# mistake -> ((function, its source), the grade_ids it must fail: exactly these)
FOUNDATIONS = {
    "l1_subgradient_flipped_sign": (
        fnd("l1_subgradient", "np.sign(X @ w - y)", "np.sign(y - X @ w)"), ALL_L1_SUBGRADIENT),
    "l1_subgradient_sign_zero_is_minus_one": (
        fnd("l1_subgradient", "np.sign(X @ w - y)", "np.where(X @ w - y > 0, 1.0, -1.0)"),
        ALL_L1_SUBGRADIENT),
    "l1_subgradient_not_divided_by_N": (
        fnd("l1_subgradient", " / X.shape[0]", ""), ALL_L1_SUBGRADIENT),
    "l1_loss_summed": (
        fnd("l1_loss", "np.mean(np.abs(X @ w - y))", "np.sum(np.abs(X @ w - y))"),
        ["l1_loss_worked_example", "l1_loss_random_inputs"]),
    "jacobian_sign": (fnd("softmax_jacobian", "diagonal - outer", "diagonal + outer"),
                      ALL_JACOBIAN),
    "jacobian_doubled_consistently": (  # J @ 1 = 0 still holds, for vectors and batches
        fnd("softmax_jacobian", "return diagonal - outer", "return 2 * (diagonal - outer)"),
        ALL_JACOBIAN),
    "graph_backward_skip_gradient": (
        ("graph_backward", demo_source(FND, "ben_skip_gradient", "graph_backward")),
        ["graph_backward_worked_example", "graph_backward_finite_differences"]),
    "fit_l1_without_the_decay": (fnd("fit_l1", "lr / np.sqrt(t + 1)", "lr"), ALL_FIT_L1),
    "fit_l1_climbs": (fnd("fit_l1", "w = w - lr", "w = w + lr"),
                      ALL_FIT_L1 + ["fit_l1_robust_to_outliers"]),
    "fit_l1_returns_the_last_iterate": (
        fnd("fit_l1", "return best, np.array(history)", "return w, np.array(history)"),
        ["fit_l1_three_steps"]),
    "box_network_swapped_edges": (
        ("box_network", demo_source(FND, "hal_box_swapped", "box_network")),
        ["box_network_handout_box", "box_network_edges", "box_network_other_boxes"]),
    "box_network_swapped_edges_under_a_staircase_of_boxes": (  # staircase calls box_network
        ("box_network", demo_source(FND, "hal_box_swapped", "box_network") + "\n\n\n"
         + STAIRCASE_OF_BOXES),
        ["box_network_handout_box", "box_network_edges", "box_network_other_boxes"]),
}

ALL_AFFINE_BACKWARD = ["affine_backward_finite_differences", "affine_backward_random"]
ALL_MLP_BACKWARD = ["mlp_backward_gradient_check", "mlp_backward_depths"]
ALL_MLP_FORWARD = ["mlp_forward_two_hidden_layers", "mlp_forward_depths"]
DEEP_MLP = {
    "relu_backward_masks_the_gradient": (
        dmlp("relu_backward", 'dA * (cache["Z"] > 0)', "dA * (dA > 0)"),
        ["relu_backward_values", "relu_backward_random"]),
    "affine_backward_dW_averaged_over_N": (
        dmlp("affine_backward", 'dW = cache["X"].T @ dZ', 'dW = cache["X"].T @ dZ / len(dZ)'),
        ALL_AFFINE_BACKWARD),
    "affine_backward_dW_transposed": (
        dmlp("affine_backward", 'dW = cache["X"].T @ dZ', 'dW = dZ.T @ cache["X"]'),
        ALL_AFFINE_BACKWARD),
    "affine_backward_db_summed_over_the_wrong_axis": (
        dmlp("affine_backward", "db = dZ.sum(axis=0)", "db = dZ.sum(axis=1)"),
        ALL_AFFINE_BACKWARD),
    "affine_backward_dX_without_W": (
        dmlp("affine_backward", 'dX = dZ @ cache["W"].T', 'dX = dZ @ np.ones_like(cache["W"]).T'),
        ALL_AFFINE_BACKWARD),
    "sigmoid_backward_at_the_activation": (
        ("sigmoid_backward", demo_source(DMLP, "ben_sigmoid_at_activation", "sigmoid_backward")),
        ["sigmoid_backward_handout", "sigmoid_backward_finite_differences"]),
    "softmax_ce_not_averaged": (
        dmlp("softmax_ce_loss", "N = scores.shape[0]", "N = 1"),
        ["softmax_ce_loss_values", "softmax_ce_loss_gradient_and_stability"]),
    "relu_forward_caches_its_activation": (
        dmlp("relu_forward", 'return np.maximum(Z, 0.0), {"Z": Z}',
             'A = np.maximum(Z, 0.0)\n    return A, {"Z": A}'),
        ["relu_forward_values_and_cache"]),
    "sigmoid_forward_caches_its_activation": (
        dmlp("sigmoid_forward", 'return A, {"Z": Z}', 'return A, {"Z": A}'),
        ["sigmoid_forward_values_and_cache"]),
    "affine_forward_forgets_the_bias": (
        dmlp("affine_forward", "Z = X @ W + b", "Z = X @ W"),
        ["affine_forward_values_and_cache", "affine_forward_random"]),
    "relu_forward_is_abs": (
        dmlp("relu_forward", "np.maximum(Z, 0.0)", "np.abs(Z)"),
        ["relu_forward_values_and_cache"]),
    "mlp_forward_caches_the_activation": (
        ("mlp_forward", demo_source(DMLP, "dan_cache_activation", "mlp_forward")),
        ALL_MLP_FORWARD),
    "mlp_forward_activations_reversed": (
        dmlp("mlp_forward", "activations[l - 1] ==", "activations[::-1][l - 1] =="),
        ALL_MLP_FORWARD),
    "mlp_forward_skips_the_activation": (
        dmlp("mlp_forward", 'A, _ = relu_forward(Z) if activations[l - 1] == "relu" '
             "else sigmoid_forward(Z)", "A = Z"),
        ALL_MLP_FORWARD),
    "mlp_backward_activations_reversed": (
        dmlp("mlp_backward", "activations[l - 2] ==", "activations[::-1][l - 2] =="),
        ALL_MLP_BACKWARD),
    "mlp_backward_skips_the_activation": (
        dmlp("mlp_backward", "dZ = (relu_backward", "dZ = dA if True else (relu_backward"),
        ALL_MLP_BACKWARD),
    "mlp_backward_hidden_bias_zero": (
        ("mlp_backward", demo_source(DMLP, "cat_hidden_bias", "mlp_backward")),
        ALL_MLP_BACKWARD),
    "init_mlp_variance_as_std": (
        ("init_mlp", demo_source(DMLP, "eli_init_variance_as_std", "init_mlp")),
        ["init_mlp_scales", "init_mlp_draws"]),
    "init_mlp_generator_per_layer": (
        dmlp("init_mlp", "    rng = np.random.default_rng(seed)\n", "",
             "params[f\"W{l}\"] = rng.normal(",
             "params[f\"W{l}\"] = np.random.default_rng(seed).normal("),
        ["init_mlp_draws"]),
    "init_mlp_seed_ignored": (
        dmlp("init_mlp", "np.random.default_rng(seed)", "np.random.default_rng(seed % 2)"),
        ["init_mlp_draws"]),
}
TABLES = {"foundations": (FND, FOUNDATIONS), "deep_mlp": (DMLP, DEEP_MLP)}
CASES = [(assignment, mistake) for assignment, (_, table) in TABLES.items() for mistake in table]


@pytest.mark.parametrize("assignment, mistake", CASES, ids=[f"{a}-{m}" for a, m in CASES])
def test_a_mistake_costs_only_its_own_functions_tests(assignment, mistake):
    course_assignment, table = TABLES[assignment]
    (name, source), must_fail = table[mistake]
    for grade_id in must_fail:
        assert course_assignment.target_of(course_assignment.by_id[grade_id]) == name, grade_id
    lost = failing_tests(course_assignment, reference_notebook(course_assignment, source),
                         skip=NOT_CHECKED.get(assignment, ()))
    assert set(lost) == set(must_fail), (
        f"{mistake} in {name}: fails {sorted(lost)}, expected exactly {sorted(must_fail)}; "
        + "; ".join(f"{g}: {m}" for g, m in lost.items() if g not in must_fail))


# correct functions written otherwise: the reference's notebook with one of them
CORRECT = {
    "foundations": {
        "staircase_of_boxes": STAIRCASE_OF_BOXES,
        "fit_l1_in_place_subgradient_inline": edited(
            reference_source(FND, "fit_l1"),
            "w = w - lr / np.sqrt(t + 1) * l1_subgradient(X, y, w)",
            "w = w.copy()\n        w -= lr * (X.T @ np.sign(X @ w - y) / len(y)) / np.sqrt(t + 1)"),
    },
    "deep_mlp": {
        "init_mlp_transposed_draws": edited(
            reference_source(DMLP, "init_mlp"), "rng.normal(0.0, np.sqrt(variance), "
            "size=(n_in, n_out))", "rng.normal(0.0, np.sqrt(variance), size=(n_out, n_in)).T"),
        "init_mlp_standard_normal": edited(
            reference_source(DMLP, "init_mlp"), "rng.normal(0.0, np.sqrt(variance), "
            "size=(n_in, n_out))", "rng.standard_normal((n_in, n_out)) * variance ** 0.5"),
        "mlp_backward_inline_layers": edited(
            reference_source(DMLP, "mlp_backward"),
            """dA, grads[f"W{l}"], grads[f"b{l}"] = affine_backward(
            dZ, {"X": cache["A_prev"], "W": params[f"W{l}"]})""",
            """dA = dZ @ params[f"W{l}"].T
        grads[f"W{l}"], grads[f"b{l}"] = cache["A_prev"].T @ dZ, dZ.sum(axis=0)"""),
    },
}
CORRECT_CASES = [(a, v) for a, variants in CORRECT.items() for v in [None, *variants]]


@pytest.mark.parametrize("assignment, variant", CORRECT_CASES,
                         ids=[f"{a}-{v or 'reference'}" for a, v in CORRECT_CASES])
def test_correct_notebooks_lose_nothing(assignment, variant):
    course_assignment, _ = TABLES[assignment]
    sources = () if variant is None else (CORRECT[assignment][variant],)
    lost = failing_tests(course_assignment, reference_notebook(course_assignment, *sources),
                         skip=NOT_CHECKED.get(assignment, ()))
    assert not lost, lost
