// probe_server.mjs — a small MCP server, built with the official SDK, for what
// the reference server cannot show: that a client's cancellation crossed the
// tunnel and reached the server, and a 10 MB tool result.
//
//   node probe_server.mjs http PORT     Streamable HTTP on 127.0.0.1:PORT/mcp
//   node probe_server.mjs stdio
//
// Tools: wait {id, seconds} sleeps until the time passes or the request is
// cancelled (then records id); cancelled {id} answers "yes" or "no";
// blob {bytes} returns that many bytes of text and their SHA-256;
// slow {id, seconds} runs for that long with a progress notification each
// second, logging "slow ID started" once per call, so a test can show a call
// that lived through a relay failure ran exactly once.
import http from "node:http";
import { createHash, randomUUID } from "node:crypto";
import { z } from "zod";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";

const cancelled = new Set();

function makeServer() {
	const server = new McpServer({ name: "postern-probe", version: "1.0.0" });
	server.registerTool("wait", {
		description: "Sleep for `seconds` unless cancelled; remembers cancellations by id.",
		inputSchema: { id: z.string(), seconds: z.number() },
	}, async ({ id, seconds }, extra) => {
		await new Promise((resolve) => {
			const t = setTimeout(resolve, seconds * 1000);
			extra.signal.addEventListener("abort", () => {
				clearTimeout(t);
				cancelled.add(id);
				process.stderr.write(`probe_server: call ${id} cancelled\n`);
				resolve();
			});
		});
		return { content: [{ type: "text", text: "done waiting" }] };
	});
	server.registerTool("cancelled", {
		description: "Was the call with this id cancelled?",
		inputSchema: { id: z.string() },
	}, async ({ id }) => ({ content: [{ type: "text", text: cancelled.has(id) ? "yes" : "no" }] }));
	server.registerTool("slow", {
		description: "Run for `seconds`, with progress each second; logs each start.",
		inputSchema: { id: z.string(), seconds: z.number().int().min(1).max(300) },
	}, async ({ id, seconds }, extra) => {
		process.stderr.write(`probe_server: slow ${id} started\n`);
		const token = extra._meta?.progressToken;
		for (let i = 1; i <= seconds; i++) {
			await new Promise((r) => setTimeout(r, 1000));
			if (token !== undefined)
				await extra.sendNotification({ method: "notifications/progress",
					params: { progress: i, total: seconds, progressToken: token } });
		}
		return { content: [{ type: "text", text: `slow ${id} done after ${seconds} s` }] };
	});
	server.registerTool("blob", {
		description: "Return `bytes` bytes of text and their SHA-256.",
		inputSchema: { bytes: z.number().int().min(1).max(64 << 20) },
	}, async ({ bytes }) => {
		const unit = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
		const text = unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
		const sha256 = createHash("sha256").update(text).digest("hex");
		return { content: [{ type: "text", text }, { type: "text", text: sha256 }] };
	});
	return server;
}

const [mode, port] = process.argv.slice(2);
if (mode === "stdio") {
	await makeServer().connect(new StdioServerTransport());
} else if (mode === "http" && Number(port) > 0) {
	const transports = new Map();
	const srv = http.createServer(async (req, res) => {
		if (!req.url.startsWith("/mcp")) {
			res.writeHead(404).end();
			return;
		}
		const sid = req.headers["mcp-session-id"];
		let t = sid && transports.get(sid);
		if (!t) {
			if (sid || req.method !== "POST") {
				res.writeHead(400).end("unknown session");
				return;
			}
			t = new StreamableHTTPServerTransport({
				sessionIdGenerator: () => randomUUID(),
				onsessioninitialized: (id) => transports.set(id, t),
			});
			t.onclose = () => t.sessionId && transports.delete(t.sessionId);
			await makeServer().connect(t);
		}
		await t.handleRequest(req, res);
	});
	srv.listen(Number(port), "127.0.0.1");
} else {
	process.stderr.write("usage: probe_server.mjs http PORT | stdio\n");
	process.exit(2);
}
