import json

import pytest

from real_runs.config import load_config, parse_config
from real_runs.errors import ConfigError



def test_valid_config(base_config, tmp_path):
    cfg = parse_config(base_config(tmp_path))
    assert len(cfg.questions) == 4 and cfg.sampling.k == 5
    assert [m.request_name for m in cfg.models] == ["m1", "m2"]


@pytest.mark.parametrize("suffix", [".yaml", ".toml", ".json"])
def test_file_formats_agree(base_config, tmp_path, suffix):
    raw = base_config(tmp_path)
    p = tmp_path / f"c{suffix}"
    if suffix == ".yaml":
        import yaml

        p.write_text(yaml.safe_dump(raw))
    elif suffix == ".json":
        p.write_text(json.dumps(raw))
    else:
        lines = [f'task = "{raw["task"]}"', f'questions = "{raw["questions"]}"', f'limit = {raw["limit"]}',
                 f'output = "{raw["output"]}"', "[sampling]", "k = 5", "temperature = 0.7", "max_tokens = 32", "seed = 1",
                 "[client]", "concurrency = 3", "timeout_s = 5", "retries = 2", "backoff_s = 0.5"]
        for m in raw["models"]:
            lines += ["[[models]]", f'name = "{m["name"]}"', f'base_url = "{m["base_url"]}"']
        p.write_text("\n".join(lines) + "\n")
    assert load_config(p).identity() == parse_config(raw).identity()


BAD = [
    ({"task": "gsm9k"}, "task='gsm9k'"),
    ({"questions": "gsm8k_5000"}, "questions='gsm8k_5000'"),
    ({"questions": "math_500"}, "task='gsm8k'"),
    ({"limit": 0}, "limit=0"),
    ({"limit": 501}, "limit=501"),
    ({"sampling": {"k": 0}}, "k=0"),
    ({"sampling": {"temperature": 0.7}}, "'k'"),
    ({"sampling": {"k": 5, "top_p": 0}}, "top_p=0"),
    ({"sampling": {"k": 5, "temperature": -1}}, "temperature=-1"),
    ({"sampling": {"k": True}}, "k=True"),
    ({"sampling": {"k": 5, "topp": 0.9}}, "topp"),
    ({"models": []}, "models=[]"),
    ({"models": [{"name": "a", "base_url": "127.0.0.1:8000"}]}, "base_url='127.0.0.1:8000'"),
    ({"models": [{"name": "a", "base_url": "http://x/v1"}, {"name": "a", "base_url": "http://y/v1"}]}, "['a']"),
    ({"models": [{"name": "a"}]}, "'base_url'"),
    ({"client": {"concurrency": 0}}, "concurrency=0"),
    ({"client": {"timeout_s": 0}}, "timeout_s=0"),
    ({"client": {"on_error": "ignore"}}, "on_error='ignore'"),
    ({"output": "run.txt"}, "output='run.txt'"),
    ({"api": "responses"}, "api='responses'"),
    ({"prompt": "nope"}, "prompt='nope'"),
    ({"prompt": {"id": "x", "template": "no field"}}, "{question}"),
    ({"prompt": {"id": "x", "template": "{question} {answer}"}}, "['answer']"),
    ({"backend": "offline"}, "base_url is for backend='server'"),
    ({"offline": {"dtype": "float32"}}, "backend='server'"),
    ({"colour": "blue"}, "['colour']"),
    ({"questions": {"gpqa": "missing.csv"}}, "task='mc'"),
]


@pytest.mark.parametrize("over,needle", BAD)
def test_bad_config_raises_with_value(base_config, tmp_path, over, needle):
    with pytest.raises(ConfigError) as e:
        parse_config(base_config(tmp_path, **over))
    assert needle in str(e.value)


def test_mc_needs_choices_field(base_config, tmp_path):
    with pytest.raises(ConfigError, match="choices"):
        parse_config(base_config(tmp_path, task="mc", questions="jhu_100", prompt={"id": "x", "template": "{question}"}))


def test_missing_file_and_suffix(base_config, tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")
    p = tmp_path / "c.ini"
    p.write_text("x")
    with pytest.raises(ConfigError, match="'.ini'"):
        load_config(p)
