"""The confusion matrix of a keep decision against keep/drop labels, counted one document at a time with no numpy:
the independent count the labels objectives' tests compare with."""


def cells(truth, kept):
    """(TP, FN, FP, TN) of the keep class."""
    pairs = list(zip(truth, kept))
    tp = sum(1 for t, k in pairs if t and k)
    fn = sum(1 for t, k in pairs if t and not k)
    fp = sum(1 for t, k in pairs if not t and k)
    tn = sum(1 for t, k in pairs if not t and not k)
    return tp, fn, fp, tn


def share(num, den):
    return num / den if den else 0.0


def youden(truth, kept):
    """Recall of keep minus the false-keep rate."""
    tp, fn, fp, tn = cells(truth, kept)
    return share(tp, tp + fn) - share(fp, fp + tn)
