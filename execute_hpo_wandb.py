"""Search a Data-Juicer recipe's hyper-parameters with a W&B sweep (online, or offline on the local engine).

python execute_hpo_wandb.py --config configs/process.yaml --hpo_config configs/quality_score_hpo.yaml
"""

import sys

from data_juicer_hpo.cli.wandb_sweep import main

if __name__ == "__main__":
    sys.exit(main())
