"""Command line: `tongban SUBCOMMAND`, one module per subcommand under management/commands."""
