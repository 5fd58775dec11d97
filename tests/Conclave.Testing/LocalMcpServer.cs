namespace Conclave.Testing;

/// <summary>
/// A local MCP server as a user would put one in a session's workspace: a Python program speaking MCP's JSON-RPC over
/// stdin/stdout (the sandbox image has no MCP package, and needs none). Tools: <c>where()</c> (hostname, working folder
/// and pid, to prove where it runs) and <c>add(a, b)</c> (numbers).
/// </summary>
public static class LocalMcpServer
{
    public const string FileName = "mcp_server.py";

    public const string Script = """
        import json, os, socket, sys

        TOOLS = [
            {"name": "where", "description": "Says where this server runs.", "inputSchema": {"type": "object", "properties": {}}},
            {"name": "add", "description": "Adds two numbers.",
             "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}},
        ]

        def send(message):
            sys.stdout.write(json.dumps(message) + "\n")
            sys.stdout.flush()

        for line in sys.stdin:
            if not line.strip():
                continue
            message = json.loads(line)
            ident, method = message.get("id"), message.get("method")
            if ident is None:
                continue
            params = message.get("params") or {}
            if method == "initialize":
                result = {"protocolVersion": params.get("protocolVersion", "2025-06-18"), "capabilities": {"tools": {}},
                          "serverInfo": {"name": "local-test", "version": "1.0"}}
            elif method == "ping":
                result = {}
            elif method == "tools/list":
                result = {"tools": TOOLS}
            elif method == "tools/call" and params.get("name") == "where":
                result = {"content": [{"type": "text", "text": f"{socket.gethostname()} {os.getcwd()} {os.getpid()}"}]}
            elif method == "tools/call" and params.get("name") == "add":
                arguments = params.get("arguments") or {}
                result = {"content": [{"type": "text", "text": str(arguments["a"] + arguments["b"])}]}
            else:
                send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32601, "message": f"no such method: {method}"}})
                continue
            send({"jsonrpc": "2.0", "id": ident, "result": result})
        """;
}
