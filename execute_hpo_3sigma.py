"""Tune a Data-Juicer recipe's filter bounds with the 3-sigma rule, then process the data.

python execute_hpo_3sigma.py --config configs/process.yaml
python execute_hpo_3sigma.py --config configs/process.yaml --path_3sigma_recipe configs/process_3sigma.yaml
"""

import sys

from data_juicer_hpo.cli.three_sigma import main

if __name__ == "__main__":
    sys.exit(main())
