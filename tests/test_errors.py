from staffplan.errors import InfeasibleError, InputError, Reason, ScenarioError, StaffplanError


def test_message_carries_location_expected_found_hint() -> None:
    err = InputError(
        "bad value",
        file="agents.csv",
        row=5,
        column="contract",
        expected="a known contract",
        found="FT9",
        hint="see contracts.csv",
    )
    text = str(err)
    assert (
        text == "agents.csv, row 5, column 'contract': bad value; expected a known contract, found "
        "'FT9'. Hint: see contracts.csv"
    )
    assert err.exit_code == 2
    assert isinstance(err, StaffplanError)


def test_key_path_for_scenario_errors() -> None:
    err = ScenarioError("unknown key", file="s.toml", key="queues.voice.sevice_level")
    assert str(err) == "s.toml, key 'queues.voice.sevice_level': unknown key"


def test_infeasible_lists_reasons() -> None:
    r = Reason(
        "contract minimum",
        "agent A3, week 1",
        "needs 2400 min but only 3 days are free",
        "lower min_minutes_week",
    )
    err = InfeasibleError("no roster satisfies the hard rules", reasons=[r])
    lines = str(err).splitlines()
    assert lines[0] == "no roster satisfies the hard rules"
    assert lines[1].startswith("  - contract minimum — agent A3, week 1: needs 2400 min")
    assert "suggestion: lower min_minutes_week" in lines[1]
