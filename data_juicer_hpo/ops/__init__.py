"""The plugin's face towards Data-Juicer's operators: the entry-point module Data-Juicer loads (:mod:`.entry`),
threshold pairing from op signatures (:mod:`.thresholds`), the statistics pass (:mod:`.statistics`), addressing
ops in a recipe (:mod:`.addressing`) and recipe edits (:mod:`.recipe`).

Kept empty on purpose: Data-Juicer imports :mod:`.entry` while its own config module is half-loaded, so nothing
heavy may be imported here.
"""
