"""What the tests share, as importable modules (``from tests.helpers.data import write_jsonl``):

- :mod:`.data`: small JSON Lines and YAML files the tests make and read, and the varied texts they make them of;
- :mod:`.runs`: the checkout, the venv's commands and ``run`` (a subprocess with the test environment);
- :mod:`.recipes`: small recipes and sweeps several end-to-end tests share;
- :mod:`.media`: PNG images, WAV files and MPEG-4 videos;
- :mod:`.pg_server`: a private PostgreSQL server;
- :mod:`.ray`: a local Ray cluster on loopback (with ``ray_netns.sh``);
- :mod:`.sweep_files`: sweep files as the tests of ``engine/sweep_file`` parse and sample them.

Fixtures live in ``tests/conftest.py``.
"""
