"""The client commands' own errors: bad files, bad config and an unreachable server, said
plainly and told apart by the exit status."""

from pathlib import Path

from typer.testing import CliRunner

from descent.cli import app
from descent.exit_codes import ExitCode
from tests.conftest import free_port

runner = CliRunner()


def test_a_spec_file_that_is_not_yaml_is_refused_with_the_parser_message(tmp_path: Path):
    path = tmp_path / "spec.yaml"
    path.write_text("dataset: {name: mnist\n")
    result = runner.invoke(app, ["submit", str(path)])
    assert result.exit_code == 2
    assert f"{path} is not valid YAML" in result.output


def test_a_spec_file_must_hold_one_object(tmp_path: Path):
    path = tmp_path / "spec.json"
    path.write_text("[1, 2]")
    result = runner.invoke(app, ["batch", str(path)])
    assert result.exit_code == 2
    assert "must hold one object" in result.output


def test_a_missing_file_is_named(tmp_path: Path):
    result = runner.invoke(app, ["submit", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2
    assert "cannot read" in result.output and "absent.yaml" in result.output


def test_an_unreachable_server_says_how_to_point_at_one():
    url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["jobs"], env={"DESCENT_URL": url})
    assert result.exit_code == ExitCode.unreachable == 5
    assert "Cannot reach the server" in result.output
    assert "DESCENT_URL" in result.output


def test_json_output_of_an_unreachable_server_leaves_stdout_empty():
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["jobs", "show", "x", "-o", "json", "--url", url])
    assert result.exit_code == ExitCode.unreachable
    assert result.stdout == ""
    assert "Cannot reach the server" in result.stderr


def test_an_unknown_profile_is_a_usage_error_naming_the_known_ones(tmp_path: Path):
    (tmp_path / "descent").mkdir()
    (tmp_path / "descent" / "config.toml").write_text('[profiles.local]\nurl = "http://x"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path), "DESCENT_URL": None}
    result = runner.invoke(app, ["jobs", "--profile", "work"], env=env)
    assert result.exit_code == ExitCode.usage
    assert "no profile 'work'" in result.output and "local" in result.output


def test_the_help_lists_the_exit_codes():
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for code in ExitCode:
        assert f"{code.value} " in result.output.split("Exit status:")[1]
