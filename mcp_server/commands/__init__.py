"""The `whatsapp-mcp` subcommands, registered in `mcp_server.cli.COMMANDS`."""
