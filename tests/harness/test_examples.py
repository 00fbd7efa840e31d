from pathlib import Path

import pytest

from real_runs.config import load_config
from real_runs.errors import ConfigError

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "real_runs" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_parse(path):
    if "gpqa" in path.name:
        with pytest.raises(ConfigError, match="not bundled"):
            load_config(path)
        return
    cfg = load_config(path)
    assert cfg.sampling.k == 5 and len(cfg.models) == 2
