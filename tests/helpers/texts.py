"""Made-up documents for the objectives' unit tests: council-report prose ("good", like a reference set) against
text-message noise ("bad")."""

import numpy as np

__all__ = ["GOOD", "BAD", "word_docs"]

GOOD = "the council approved a detailed report on water supply and will publish its findings in spring".split()
BAD = "lol omg @user !!! #win free prize txt now u r gr8 http".split()


def word_docs(words, n: int, seed: int, length: int = 30) -> list:
    """``n`` documents of ``length`` words drawn (seeded) from ``words``."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(words, size=length)) for _ in range(n)]
