"""The `msm` subcommands, grouped by what they drive; `msm.cli` loads each module only when its command runs."""
