"""The hints of train_mlp's self-check, one per mistake it recognises (``checks.training``,
``checks.repeat``); the grader's hidden history test gives the same ones."""

HINTS = {
    "train_format": "train_mlp returns (params, history), history with the lists "
                    "\"train_loss\", \"train_acc\", \"test_loss\", \"test_acc\" (one float per "
                    "epoch) and \"grad_norms\" (one list of L floats per epoch).",
    "train_no_progress": "the training loss did not go down: each step should move every "
                         "parameter by v = momentum v - lr g, then theta = theta + v.",
    "train_on_test": "train_mlp trains on the test set: only rows of X_train (with Y_train) "
                     "go into the mini-batches; X_test and Y_test are only evaluated, after "
                     "each epoch, to measure how well the network generalises.",
    "train_batches": "each epoch goes once through the whole training set in mini-batches "
                     "of batch_size rows: ceil(N / batch_size) steps per epoch (the last "
                     "may be smaller, never dropped: when N is not a multiple of batch_size, "
                     "range(0, N, batch_size) with slices order[start:start + batch_size] "
                     "gives it), every training example in exactly one of them. Take the "
                     "batches as consecutive slices of one permutation of the indices.",
    "train_no_shuffle": "train_mlp does not shuffle: the data may come ordered by class (as "
                        "here), so each mini-batch holds one class. At the start of every "
                        "epoch draw a new order, order = rng.permutation(N) with rng = "
                        "np.random.default_rng(seed), and slice the batches from it.",
    "train_shuffle_once": "every epoch visits the examples in the same order: draw a new "
                          "permutation at the start of each epoch (order = "
                          "rng.permutation(N) inside the epoch loop) from one generator made "
                          "once before the loop, not one permutation before the loop or a "
                          "generator re-created every epoch.",
    "train_same_batches": "every epoch uses the same mini-batches, only in another order: "
                          "shuffle the examples themselves (order = rng.permutation(N), then "
                          "consecutive slices of order), not the list of batches.",
    "train_labels": "a mini-batch's targets are not its examples' ones: index X_train and "
                    "Y_train with the same indices (X_train[batch], Y_train[batch]).",
    "train_update": "each step moves every parameter with its velocity: v = momentum * v - "
                    "lr * grads[key], then params[key] = params[key] + v, for W and b of every "
                    "layer. The velocities start at zero once, before the first epoch, and "
                    "carry over from step to step (and from epoch to epoch).",
    "train_returned_params": "return the params after the last step (the trained ones), not "
                             "the initial ones or a copy made earlier.",
    "train_history_data": "a history entry is computed on the wrong set: \"train_loss\" and "
                          "\"train_acc\" on the whole training set (X_train, Y_train), "
                          "\"test_loss\" and \"test_acc\" on the whole test set (X_test, "
                          "Y_test).",
    "train_history_stale": "the history is computed before the epoch's steps: record each "
                           "epoch's entries after its last mini-batch, with the params as "
                           "they are at the end of the epoch.",
    "train_history_batches": "the history holds the mini-batches' losses or accuracies "
                             "(their mean, or the last one's) seen during the epoch: the "
                             "notebook defines each entry as the loss (accuracy) of the "
                             "end-of-epoch params on the whole set, so after the epoch's "
                             "steps run mlp_forward on all of X_train, then on X_test.",
    "train_history_values": "each epoch's history entries are the mean cross-entropy "
                            "(softmax_ce_loss) and the accuracy (argmax of the scores equal "
                            "to argmax of Y) of the params at the end of that epoch, on the "
                            "whole training set and on the whole test set.",
    "train_grad_norms_last": "history[\"grad_norms\"] holds the last mini-batch's norms: the "
                             "notebook defines each epoch's entry as the mean over that "
                             "epoch's steps of each layer's norm ||dW_l||: add up the norms "
                             "of every step and divide by the number of steps.",
    "train_grad_norms_values": "history[\"grad_norms\"][e][l - 1] is the mean, over epoch e's "
                               "steps, of np.linalg.norm(grads[f\"W{l}\"]), the Frobenius "
                               "norm of the weight gradient mlp_backward returned at each "
                               "step (weights only, not the biases, the params or the "
                               "velocities).",
    "train_inputs_modified": "train_mlp changed its data in place (e.g. shuffling X_train "
                             "with rng.shuffle, or X_train[:] = X_train[order]): shuffle an "
                             "array of indices instead, order = rng.permutation(N), and "
                             "index X_train and Y_train with it.",
    "train_seed": "the mini-batches do not come from train_mlp's seed: make one generator, "
                  "rng = np.random.default_rng(seed), and draw each epoch's order from it "
                  "(rng.permutation(N)), not from np.random's global generator, an unseeded "
                  "np.random.default_rng() or a fixed seed. The same seed must give the same "
                  "training, another seed another one.",
}
