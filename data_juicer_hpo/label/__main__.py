"""``python -m data_juicer_hpo.label --config recipe.yaml --n 200 --out DIR`` (see :mod:`.command`)."""

from data_juicer_hpo.label.command import main

if __name__ == "__main__":
    raise SystemExit(main())
